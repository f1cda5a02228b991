; Quill's static bug rules for JavaScript, TypeScript and TSX (one query for the three: every
; node type named here exists in each grammar). Read by
; server/quill/actions/rules/javascript_rules.py, which checks what a query cannot say.

; loose-equality (`== null` and `typeof x == "..."` are let through in Python)
(binary_expression operator: ["==" "!="] @loose-operator)

; unreachable-code: a statement that leaves its block or `case`
(statement_block
  [(return_statement) (throw_statement) (break_statement) (continue_statement)] @exit)
(switch_case
  body: [(return_statement) (throw_statement) (break_statement) (continue_statement)] @exit)
(switch_default
  body: [(return_statement) (throw_statement) (break_statement) (continue_statement)] @exit)

; duplicate-key
(object (_) (_)) @object

; assignment-in-condition: `if (a = b)`, not `if ((a = b))`
(if_statement condition: (parenthesized_expression (assignment_expression) @condition-assignment))
(while_statement condition: (parenthesized_expression (assignment_expression) @condition-assignment))
(do_statement condition: (parenthesized_expression (assignment_expression) @condition-assignment))
