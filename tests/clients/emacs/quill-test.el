;;; quill-test.el --- test harness for tests/clients/test_emacs.py  -*- lexical-binding: t -*-

;; Loaded after the README's eglot configuration (written out verbatim by the test).  It
;; opens main.py, connects eglot the way `eglot-ensure' would (in batch mode there is no
;; command loop, so `eglot-ensure' never fires: `(apply #'eglot (eglot--guess-contact))'
;; connects at once), asks the server for a definition, workspace symbols and an invoked
;; completion with eglot's own request parameters, writes every answer as JSON to
;; $CLIENT_TEST_OUT and quits Emacs as a user would.  It judges nothing: the pytest side
;; asserts on the JSON.

;;; Code:

(require 'json)
(require 'eglot)
(require 'jsonrpc)

(defvar qt-spec
  (let ((json-object-type 'plist) (json-array-type 'list) (json-key-type 'keyword))
    (json-read-file (getenv "CLIENT_TEST_SPEC"))))
(defvar qt-out (getenv "CLIENT_TEST_OUT"))
(defvar qt-start (float-time))
(defvar qt-result (list :emacs emacs-version
                        :eglot (let ((lib (locate-library "eglot")))
                                 (and lib (file-name-nondirectory
                                           (directory-file-name (file-name-directory lib)))))))

(defun qt-ms (since) (round (* 1000 (- (float-time) since))))
(defun qt-put (key value) (setq qt-result (plist-put qt-result key value)))
(defun qt-spec (key) (plist-get qt-spec key))

(defun qt-request (server method params timeout)
  "Send METHOD with PARAMS to SERVER; a plist with the result or the error."
  (let ((t0 (float-time)))
    (condition-case err
        (let ((result (jsonrpc-request server method params :timeout timeout)))
          (list :method (substring (symbol-name method) 1) :params params
                :result result :ms (qt-ms t0)))
      (error (list :method (substring (symbol-name method) 1) :params params
                   :error (list :message (format "%S" err)) :ms (qt-ms t0))))))

(defun qt-wait (seconds pred)
  "Process events until PRED is non-nil or SECONDS have passed; return PRED's value."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun qt-goto (line column)
  "Move to 0-based LINE and COLUMN (in characters, i.e. code points)."
  (goto-char (point-min))
  (forward-line line)
  (forward-char column))

(defun qt-quill-item-p (item)
  (let* ((edit (plist-get item :textEdit))
         (text (or (and edit (plist-get edit :newText)) (plist-get item :insertText))))
    (and (equal (plist-get item :detail) (qt-spec :completion_detail))
         (stringp text) (string-match-p "[^ \t\n]" text))))

(defun qt-run ()
  (find-file (qt-spec :main))
  (qt-put :buffer buffer-file-name)
  (qt-put :major_mode (symbol-name major-mode))
  ;; What `eglot-ensure' (from the README's hook) would do at the first command.
  (unless (eglot-current-server)
    (apply #'eglot (eglot--guess-contact)))
  (let ((server (qt-wait 30 (lambda () (and eglot--managed-mode (eglot-current-server))))))
    (qt-put :steps (vector (list :name "initialized" :at_ms (qt-ms qt-start))))
    (unless server
      (error "eglot did not connect to quill within 30 s"))
    (qt-put :client (list :name (jsonrpc-name server)
                          :contact (vconcat (process-command (jsonrpc--process server)))
                          :pid (process-id (jsonrpc--process server))
                          :project_root (project-root (eglot--project server))))
    ;; Indexing: eglot 1.9 announces no work-done progress, so poll workspace/symbol.
    (let ((t0 (float-time)) (polls 0) (ready "timeout"))
      (while (and (equal ready "timeout") (< (float-time) (+ t0 40)))
        (let ((poll (qt-request server :workspace/symbol
                                (list :query (qt-spec :symbol_query)) 5)))
          (setq polls (1+ polls))
          (if (and (vectorp (plist-get poll :result))
                   (> (length (plist-get poll :result)) 0))
              (setq ready "workspace/symbol")
            (accept-process-output nil 0.25))))
      (qt-put :index (list :ready_by ready :ms (qt-ms t0) :symbol_polls polls)))
    ;; 1. Go to definition from the name after the non-ASCII text, as eglot encodes it.
    (qt-goto (qt-spec :call_line) (qt-spec :cursor_codepoint))
    (qt-put :definition (qt-request server :textDocument/definition
                                    (eglot--TextDocumentPositionParams) 10))
    ;; 2. Workspace symbols.
    (qt-put :symbol (qt-request server :workspace/symbol
                                (list :query (qt-spec :symbol_query)) 10))
    ;; 3. Invoked completion at the end of the indented empty line, eglot's own parameters.
    (goto-char (point-min))
    (forward-line (qt-spec :completion_line))
    (end-of-line)
    ;; The embedded model's first answer after loading can take longer than the server waits
    ;; for an invoked request, so ask again (as the editor would) within a time budget.
    (let ((params (eglot--CompletionParams)) (attempts nil) (found nil) (tries 0)
          (t0 (float-time)))
      (while (and (not found) (< tries 12) (< (float-time) (+ t0 40)))
        (let* ((attempt (qt-request server :textDocument/completion params 20))
               (result (plist-get attempt :result))
               (items (if (vectorp result) result (plist-get result :items))))
          (setq tries (1+ tries))
          (push attempt attempts)
          (setq found (cl-some #'qt-quill-item-p (append items nil)))
          (unless found (accept-process-output nil 0.5))))
      (qt-put :completion (list :attempts (vconcat (nreverse attempts)))))
    (qt-put :stderr (qt-buffer-tail (jsonrpc-stderr-buffer server) 60000))))

(defun qt-buffer-tail (buffer chars)
  (if (buffer-live-p buffer)
      (with-current-buffer buffer
        (buffer-substring-no-properties (max (point-min) (- (point-max) chars)) (point-max)))
    ""))

(defun qt-write ()
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
;; 4. Quit as a user would (eglot 1.9 does not shut servers down on exit); the pytest side
;; checks that the server does not outlive Emacs.
(kill-emacs 0)

;;; quill-test.el ends here
