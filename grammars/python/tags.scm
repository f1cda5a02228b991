; Quill tags for Python.
; Capture vocabulary: see grammars/README.md.

; ---------------------------------------------------------------- definitions

(class_definition
  name: (identifier) @name) @definition.class

; Functions directly inside a class body are reported as methods by the
; extractor (a function whose innermost enclosing definition is a class).
(function_definition
  name: (identifier) @name) @definition.function

; Module-level assignments: UPPER_CASE names are constants, others variables.
(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.variable)
  (#not-match? @name "^_*[A-Z][A-Z0-9_]*$"))

; Class attributes (`x = 1` / `x: int` in a class body).
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name) @definition.variable)))

; ----------------------------------------------------------------- references

(call
  function: (identifier) @name) @reference.call

(call
  function: (attribute
    attribute: (identifier) @name)) @reference.call

(decorator
  (identifier) @name) @reference.call

(decorator
  (call
    function: (identifier) @name)) @reference.call

(class_definition
  superclasses: (argument_list
    (identifier) @name @reference.type))

(class_definition
  superclasses: (argument_list
    (attribute
      attribute: (identifier) @name) @reference.type))

(type
  (identifier) @name @reference.type)

(type
  (attribute
    attribute: (identifier) @name) @reference.type)

(generic_type
  (identifier) @name @reference.type)

; `except SomeError:` names a type too.
(except_clause
  (identifier) @name @reference.type)

; ------------------------------------------------------------------- imports
; `@module` is the module path as written (relative imports keep their dots),
; `@alias` the local name when `as` is used.

(import_statement
  name: (dotted_name) @name @module) @reference.import

(import_statement
  name: (aliased_import
    name: (dotted_name) @name @module
    alias: (identifier) @alias)) @reference.import

(import_from_statement
  module_name: (_) @module
  name: (dotted_name) @name) @reference.import

(import_from_statement
  module_name: (_) @module
  name: (aliased_import
    name: (dotted_name) @name
    alias: (identifier) @alias)) @reference.import

(import_from_statement
  module_name: (_) @module
  (wildcard_import) @name) @reference.import
