; Quill's static bug rules for Python: the nodes each rule starts from.
; Read by server/quill/actions/rules/python_rules.py and python_scopes.py, which check what a
; query cannot say. Captures starting with "_" only feed predicates.

; mutable-default-argument: a list, dict or set display or comprehension as a default ...
(default_parameter
  value: [(list) (dictionary) (set) (list_comprehension) (dictionary_comprehension)
          (set_comprehension)] @mutable-default)
(typed_default_parameter
  value: [(list) (dictionary) (set) (list_comprehension) (dictionary_comprehension)
          (set_comprehension)] @mutable-default)
; ... or a call of a mutable built-in or collections type
(default_parameter
  value: (call function: [(identifier) (attribute)] @_mutable_type) @mutable-default
  (#match? @_mutable_type "^(list|dict|set|bytearray|(collections\\.)?(defaultdict|OrderedDict|Counter|deque))$"))
(typed_default_parameter
  value: (call function: [(identifier) (attribute)] @_mutable_type) @mutable-default
  (#match? @_mutable_type "^(list|dict|set|bytearray|(collections\\.)?(defaultdict|OrderedDict|Counter|deque))$"))

; bare-except
(except_clause !value) @bare-except

; broad-except-pass (the body being only `pass` is checked in Python)
(except_clause
  value: (identifier) @_broad
  (#any-of? @_broad "Exception" "BaseException")) @broad-except
(except_clause
  value: (as_pattern . (identifier) @_broad)
  (#any-of? @_broad "Exception" "BaseException")) @broad-except

; singleton-comparison, is-literal: the operators are checked in Python
(comparison_operator [(none) (true) (false)]) @comparison
(comparison_operator operators: ["is" "is not"]) @comparison

; unreachable-code: a statement that leaves its block
(block
  [(return_statement) (raise_statement) (continue_statement) (break_statement)] @exit)
(module (raise_statement) @exit)

; duplicate-key
(dictionary (pair) (pair)) @dictionary

; duplicate-parameter
(parameters (_) (_)) @parameters
(lambda_parameters (_) (_)) @parameters

; duplicate-definition
(function_definition name: (identifier) @definition)
(class_definition name: (identifier) @definition)

; assert-tuple
(assert_statement . (tuple (_)) @assert-tuple)

; fstring-without-placeholders
(string (string_start) @_prefix (#match? @_prefix "^[^\"']*[fF]")) @fstring

; loop-variable-overwritten, unused-variable: loops and the names statements bind
(for_statement) @for-loop
(assignment) @assignment
(augmented_assignment left: (identifier) @augmented-target)
(as_pattern alias: (as_pattern_target (identifier) @as-target))
(named_expression name: (identifier) @walrus-target)
(call function: (identifier) @locals-call (#eq? @locals-call "locals"))
