; Quill tags for TypeScript (also the first half of the TSX query).
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
  name: (identifier) @name) @definition.function

(function_signature
  name: (identifier) @name) @definition.function

(class_declaration
  name: (type_identifier) @name) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name) @definition.class

(enum_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (type_identifier) @name) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name) @definition.interface

(internal_module
  name: [(identifier) (nested_identifier)] @name) @definition.module

(module
  name: [(identifier) (nested_identifier) (string)] @name) @definition.module

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(method_signature
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(abstract_method_signature
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.variable

(interface_body
  (property_signature
    name: (property_identifier) @name) @definition.variable)

; Top-level bindings of functions: `const f = () => ...`, `var f = function () {}`.
(program
  [(lexical_declaration
     (variable_declarator
       name: (identifier) @name
       value: [(arrow_function) (function_expression) (generator_function)]) @definition.function)
   (variable_declaration
     (variable_declarator
       name: (identifier) @name
       value: [(arrow_function) (function_expression) (generator_function)]) @definition.function)])

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator
        name: (identifier) @name
        value: [(arrow_function) (function_expression) (generator_function)]) @definition.function)))

; Other top-level bindings: UPPER_CASE constants, then variables.
(program
  [(lexical_declaration (variable_declarator name: (identifier) @name) @definition.constant)
   (variable_declaration (variable_declarator name: (identifier) @name) @definition.constant)]
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator name: (identifier) @name) @definition.constant))
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

(program
  [(lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)
   (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable)])

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator name: (identifier) @name) @definition.variable)))

; ------------------------------------------------------------------- imports
; `@module` is the module specifier as written, `@alias` the local name of `a as b`.

(import_statement
  (import_clause
    (named_imports
      (import_specifier
        name: (identifier) @name
        alias: (identifier) @alias)))
  source: (string (string_fragment) @module)) @reference.import

(import_statement
  (import_clause
    (named_imports
      (import_specifier
        name: (identifier) @name)))
  source: (string (string_fragment) @module)) @reference.import

(import_statement
  (import_clause
    (identifier) @name)
  source: (string (string_fragment) @module)) @reference.import

(import_statement
  (import_clause
    (namespace_import (identifier) @name))
  source: (string (string_fragment) @module)) @reference.import

(export_statement
  (export_clause
    (export_specifier
      name: (identifier) @name))
  source: (string (string_fragment) @module)) @reference.import

(variable_declarator
  name: (identifier) @name
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string (string_fragment) @module)))
  (#eq? @_require "require")) @reference.import

(variable_declarator
  name: (object_pattern
    (shorthand_property_identifier_pattern) @name)
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string (string_fragment) @module)))
  (#eq? @_require "require")) @reference.import

; ----------------------------------------------------------------- references

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (member_expression
    property: [(property_identifier) (private_property_identifier)] @name)) @reference.call

(new_expression
  constructor: (identifier) @name) @reference.call

(new_expression
  constructor: (member_expression
    property: (property_identifier) @name)) @reference.call

(decorator
  (identifier) @name) @reference.call

(extends_clause
  value: (identifier) @name @reference.type)

(extends_clause
  value: (member_expression
    property: (property_identifier) @name) @reference.type)

; Every other type name (annotations, implements, generics, extends of interfaces).
(type_identifier) @name @reference.type

(nested_type_identifier
  name: (type_identifier) @name) @reference.type
