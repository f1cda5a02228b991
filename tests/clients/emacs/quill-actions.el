;;; quill-actions.el --- code-action harness for tests/clients/test_actions.py  -*- lexical-binding: t -*-

;; Loaded after the README's eglot configuration (written out verbatim by the test).  It
;; opens geometry.py, connects eglot as `eglot-ensure' would, and drives eglot's own
;; code-action command: `M-x eglot-code-actions' (`call-interactively', as from the keyboard)
;; asks the server with the Flymake diagnostics under point in the context, offers the menu
;; with `completing-read', and runs the chosen action: it applies an action's edit itself,
;; or executes its command (`workspace/executeCommand'), after which the server sends
;; `workspace/applyEdit' and eglot applies that (asking first, as eglot does for edits the
;; server starts).  Batch Emacs has no one at the keyboard, so a stand-in for the user
;; answers `completing-read' (recording the menu, picking the item the step asks for) and
;; `y-or-n-p' (yes, recording the question).  Everything is written as JSON to
;; $CLIENT_TEST_OUT; it judges nothing: the pytest side asserts.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'eglot)
(require 'jsonrpc)
(require 'flymake)

(defvar qt-spec
  (let ((json-object-type 'plist) (json-array-type 'list) (json-key-type 'keyword))
    (json-read-file (getenv "CLIENT_TEST_SPEC"))))
(defvar qt-out (getenv "CLIENT_TEST_OUT"))
(defvar qt-start (float-time))
(defvar qt-result (list :emacs emacs-version
                        :eglot (let ((lib (locate-library "eglot")))
                                 (and lib (file-name-nondirectory
                                           (directory-file-name (file-name-directory lib)))))))
(defvar qt-steps nil)
(defvar qt-menus nil "Every code-action menu eglot showed, newest first.")
(defvar qt-questions nil "Every `y-or-n-p' question eglot asked, newest first.")

(defun qt-ms (since) (round (* 1000 (- (float-time) since))))
(defun qt-put (key value) (setq qt-result (plist-put qt-result key value)))
(defun qt-spec (key) (plist-get qt-spec key))
(defun qt-step (name) (push (list :name name :at_ms (qt-ms qt-start)) qt-steps))

(defun qt-wait (seconds pred)
  "Process events until PRED is non-nil or SECONDS have passed; return PRED's value."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun qt-goto (line column)
  "Move to 0-based LINE and COLUMN (in characters)."
  (goto-char (point-min))
  (forward-line line)
  (forward-char column))

(defun qt-text () (save-restriction (widen) (buffer-substring-no-properties (point-min) (point-max))))

(defun qt-line (line)
  (save-excursion
    (goto-char (point-min))
    (forward-line line)
    (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun qt-messages-size ()
  (with-current-buffer (get-buffer-create "*Messages*") (point-max)))

(defun qt-messages-since (pos)
  (with-current-buffer (get-buffer-create "*Messages*")
    (buffer-substring-no-properties (min pos (point-max)) (point-max))))

(defun qt-buffer-tail (buffer chars)
  (if (buffer-live-p buffer)
      (with-current-buffer buffer
        (buffer-substring-no-properties (max (point-min) (- (point-max) chars)) (point-max)))
    ""))

(defun qt-action-summary (action)
  (let ((command (plist-get action :command)))
    (list :title (plist-get action :title)
          :kind (plist-get action :kind)
          :has_edit (if (plist-get action :edit) t :json-false)
          :has_data (if (plist-get action :data) t :json-false)
          :command (if (stringp command) command (plist-get command :command))
          :diagnostics (length (plist-get action :diagnostics)))))

(defvar qt-last-request nil "The range and context of eglot's last textDocument/codeAction.")
(advice-add 'jsonrpc-request :before
            (lambda (_connection method params &rest _)
              (when (eq method :textDocument/codeAction)
                (setq qt-last-request
                      (list :range (plist-get params :range)
                            :context_diagnostics
                            (length (plist-get (plist-get params :context) :diagnostics)))))))

;; The user answers eglot's questions ("Server wants to edit ... Proceed?") with yes.
(advice-add 'y-or-n-p :override
            (lambda (prompt &rest _)
              (push (list :prompt prompt :at_ms (qt-ms qt-start)) qt-questions)
              t))

(defun qt-code-action (line column chooser)
  "`M-x eglot-code-actions' with point at LINE, COLUMN; CHOOSER picks from the menu.
CHOOSER gets the menu's (TITLE . ACTION) items and returns a title, or nil to close the
menu.  Returns (:menu MENU :error ERROR)."
  (qt-goto line column)
  (let ((before (length qt-menus)) (err nil))
    (condition-case e
        ;; From the keyboard (not a mouse click), so eglot asks with `completing-read'.
        (let ((last-nonmenu-event ?\r))
          (cl-letf (((symbol-function 'completing-read)
                     (lambda (prompt collection &rest _)
                       (let ((choice (funcall chooser collection)))
                         (push (list :prompt prompt
                                     :titles (vconcat (mapcar #'car collection))
                                     :actions (vconcat (mapcar (lambda (item)
                                                                 (qt-action-summary (cdr item)))
                                                               collection))
                                     :chosen (or choice :null)
                                     :range (plist-get qt-last-request :range)
                                     :context_diagnostics
                                     (plist-get qt-last-request :context_diagnostics)
                                     :at_ms (qt-ms qt-start))
                               qt-menus)
                         (or choice (signal 'quit nil))))))
            (call-interactively #'eglot-code-actions)))
      (quit (unless (> (length qt-menus) before) (setq err "quit")))
      (error (setq err (format "%S" e))))
    (list :menu (if (> (length qt-menus) before) (car qt-menus) :null)
          :error (or err :null))))

(defun qt-quill-diagnostics (line)
  "The Flymake diagnostics from eglot on LINE (0-based), as plists."
  (save-excursion
    (goto-char (point-min))
    (forward-line line)
    (cl-loop for d in (flymake-diagnostics (line-beginning-position) (line-end-position))
             for lsp = (cdr (assoc 'eglot-lsp-diag (flymake-diagnostic-data d)))
             when (and lsp (equal (plist-get lsp :source) "quill"))
             collect (list :message (plist-get lsp :message)
                           :code (plist-get lsp :code)
                           :has_fix (if (plist-get (plist-get lsp :data) :fix) t :json-false)))))

(defun qt-pick-kind (kind)
  (lambda (items)
    (car (cl-find-if (lambda (item) (equal (plist-get (cdr item) :kind) kind)) items))))

(defun qt-pick-title (title)
  (lambda (items) (car (cl-find-if (lambda (item) (equal (car item) title)) items))))

(defun qt-run ()
  (find-file (qt-spec :geometry))
  (qt-put :buffer buffer-file-name)
  (qt-put :major_mode (symbol-name major-mode))
  (unless (eglot-current-server)
    (apply #'eglot (eglot--guess-contact)))
  (let ((server (qt-wait 30 (lambda () (and eglot--managed-mode (eglot-current-server))))))
    (qt-step "initialized")
    (unless server
      (error "eglot did not connect to quill within 30 s"))
    (qt-put :client (list :name (jsonrpc-name server)
                          :pid (process-id (jsonrpc--process server))
                          :code_action_provider
                          (plist-get (eglot--capabilities server) :codeActionProvider)))
    (qt-put :original (qt-text))

    ;; 1. The menu at point inside the function, on a name and in the indentation: look,
    ;; choose nothing.
    (qt-put :list (qt-code-action (qt-spec :action_line) (qt-spec :action_character)
                                  (lambda (_items) nil)))
    (qt-put :list_indent (qt-code-action (qt-spec :action_line)
                                         (qt-spec :action_indent_character)
                                         (lambda (_items) nil)))
    (qt-step "list")

    ;; 2. The static quick fix: the server pushes diagnostics, eglot hands them to Flymake;
    ;; `eglot-code-actions' sends those under point in the context.
    (let ((line (qt-spec :fix_line)) (fix nil))
      (qt-wait 15 (lambda () (qt-quill-diagnostics line)))
      (setq fix (list :diagnostics (vconcat (qt-quill-diagnostics line))
                      :all_diagnostics (length (flymake-diagnostics))
                      :before (qt-text)))
      (qt-step "diagnostics")
      (let ((column (string-match "radius" (qt-spec :fix_before))))
        (setq fix (append fix (qt-code-action line column (qt-pick-kind "quickfix")))))
      (qt-wait 5 (lambda () (not (equal (qt-line line) (qt-spec :fix_before)))))
      (qt-put :fix (append fix (list :line (qt-line line) :after (qt-text)))))
    (qt-step "quick fix")

    ;; 3. "Add docstring": eglot 1.9 has no codeAction/resolve, so the action is a command;
    ;; the server answers it with workspace/applyEdit, or says why not.
    (let* ((title (concat "Quill: Add docstring to function " (qt-spec :action_function)))
           (before (qt-text))
           (messages (qt-messages-size))
           (questions (length qt-questions))
           (t0 (float-time))
           (picked (qt-code-action (qt-spec :action_line) (qt-spec :action_indent_character)
                                   (qt-pick-title title)))
           (command-ms (qt-ms t0))
           (outcome "timeout"))
      (when (and (not (eq (plist-get picked :menu) :null))
                 (stringp (plist-get (plist-get picked :menu) :chosen)))
        (qt-wait 75 (lambda ()
                      (cond ((not (equal (qt-text) before)) (setq outcome "changed"))
                            ((string-match-p "Server reports (type=[0-9]+): Quill"
                                             (qt-messages-since messages))
                             (setq outcome "message"))))))
      (accept-process-output nil 0.3)
      (let ((after (qt-text)))
        (save-buffer)
        (qt-put :docstring
                (append (list :title title :before before :after after :outcome outcome
                              :ms (qt-ms t0) :command_ms command-ms
                              :messages (qt-messages-since messages)
                              :questions (vconcat (reverse (butlast qt-questions questions)))
                              :saved (if (buffer-modified-p) :json-false t))
                        picked))))
    (qt-step "docstring")
    (qt-put :stderr (qt-buffer-tail (jsonrpc-stderr-buffer server) 60000))))

(defun qt-write ()
  (qt-put :steps (vconcat (reverse qt-steps)))
  (qt-put :messages (qt-buffer-tail (get-buffer "*Messages*") 20000))
  (qt-put :seconds (/ (qt-ms qt-start) 1000.0))
  (let ((coding-system-for-write 'utf-8))
    (with-temp-file qt-out (insert (json-encode qt-result)))))

(condition-case err
    (qt-run)
  (error (qt-put :error (format "%S" err))
         (let ((server (ignore-errors (eglot-current-server))))
           (when server
             (qt-put :stderr (qt-buffer-tail (jsonrpc-stderr-buffer server) 60000))))))
(qt-write)
(kill-emacs 0)

;;; quill-actions.el ends here
