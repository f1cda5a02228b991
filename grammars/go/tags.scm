; Quill tags for Go.
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(package_clause
  (package_identifier) @name) @definition.module

(function_declaration
  name: (identifier) @name) @definition.function

; Methods: the receiver's type is the scope.
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @scope
             (pointer_type (type_identifier) @scope)
             (generic_type type: (type_identifier) @scope)
             (pointer_type (generic_type type: (type_identifier) @scope))]))
  name: (field_identifier) @name) @definition.method

(method_declaration
  name: (field_identifier) @name) @definition.method

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name) @definition.class

(type_alias
  name: (type_identifier) @name) @definition.class

(method_elem
  name: (field_identifier) @name) @definition.method

(field_declaration
  name: (field_identifier) @name) @definition.variable

(const_spec
  name: (identifier) @name) @definition.constant

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name) @definition.variable))

(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name) @definition.variable)))

; ------------------------------------------------------------------- imports
; The import path is both `@name` and `@module`; a local package name is `@alias`.

(import_spec
  name: (_) @alias
  path: (interpreted_string_literal
    (interpreted_string_literal_content) @name @module)) @reference.import

(import_spec
  path: (interpreted_string_literal
    (interpreted_string_literal_content) @name @module)) @reference.import

; ----------------------------------------------------------------- references

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (selector_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (index_expression
    operand: [(identifier) @name
              (selector_expression field: (field_identifier) @name)])) @reference.call

(type_identifier) @name @reference.type
