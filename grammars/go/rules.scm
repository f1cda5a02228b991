; Quill's static bug rules for Go. Read by server/quill/actions/rules/go_rules.py, which
; checks what a query cannot say.

; unreachable-code: a statement that leaves its block
(statement_list
  [(return_statement) (break_statement) (continue_statement) (goto_statement)] @exit)
(statement_list
  (expression_statement
    (call_expression function: (identifier) @_panic (#eq? @_panic "panic"))) @exit)

; self-assignment: `x = x` (`:=` declares a new variable: not matched)
(assignment_statement operator: "=") @assignment
