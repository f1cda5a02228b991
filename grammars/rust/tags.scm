; Quill tags for Rust.
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(mod_item
  name: (identifier) @name) @definition.module

; Functions of an `impl` block are methods of the implemented type (the scope).
(impl_item
  type: [(type_identifier) @scope
         (generic_type type: (type_identifier) @scope)
         (scoped_type_identifier name: (type_identifier) @scope)]
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.method))

(function_signature_item
  name: (identifier) @name) @definition.method

(function_item
  name: (identifier) @name) @definition.function

(macro_definition
  name: (identifier) @name) @definition.function

(struct_item
  name: (type_identifier) @name) @definition.class

(enum_item
  name: (type_identifier) @name) @definition.class

(union_item
  name: (type_identifier) @name) @definition.class

(type_item
  name: (type_identifier) @name) @definition.class

(trait_item
  name: (type_identifier) @name) @definition.interface

(const_item
  name: (identifier) @name) @definition.constant

(static_item
  name: (identifier) @name) @definition.constant

(field_declaration_list
  (field_declaration
    name: (field_identifier) @name) @definition.variable)

; ------------------------------------------------------------------- imports
; `use a::b::C` : name C, module a::b. `use a::{B, C as D}` : names B and C, module a.

(use_declaration
  argument: (scoped_identifier
    path: (_) @module
    name: (identifier) @name)) @reference.import

(use_declaration
  argument: (identifier) @name @module) @reference.import

(use_declaration
  argument: (use_as_clause
    path: (scoped_identifier
      path: (_) @module
      name: (identifier) @name)
    alias: (identifier) @alias)) @reference.import

(use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list
      (use_as_clause
        path: (identifier) @name
        alias: (identifier) @alias)))) @reference.import

(use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list
      (identifier) @name))) @reference.import

(use_declaration
  argument: (scoped_use_list
    path: (_) @module
    list: (use_list
      (scoped_identifier
        name: (identifier) @name)))) @reference.import

; ----------------------------------------------------------------- references

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (scoped_identifier
    name: (identifier) @name)) @reference.call

(call_expression
  function: (generic_function
    function: [(identifier) @name
               (scoped_identifier name: (identifier) @name)
               (field_expression field: (field_identifier) @name)])) @reference.call

(macro_invocation
  macro: (identifier) @name) @reference.call

(type_identifier) @name @reference.type
