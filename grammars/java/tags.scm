; Quill tags for Java.
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(package_declaration
  [(identifier) (scoped_identifier)] @name) @definition.module

(class_declaration
  name: (identifier) @name) @definition.class

(enum_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(annotation_type_declaration
  name: (identifier) @name) @definition.interface

(method_declaration
  name: (identifier) @name) @definition.method

(constructor_declaration
  name: (identifier) @name) @definition.method

(compact_constructor_declaration
  name: (identifier) @name) @definition.method

; Fields: UPPER_CASE ones are constants.
(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)
  (#match? @name "^[A-Z][A-Z0-9_]*$")) @definition.constant

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @definition.variable

(enum_constant
  name: (identifier) @name) @definition.constant

; ------------------------------------------------------------------- imports
; `import a.b.C;` : name C, module a.b. `import a.b.*;` : name *, module a.b.

(import_declaration
  (scoped_identifier
    scope: (_) @module
    name: (identifier) @name)
  .) @reference.import

(import_declaration
  (scoped_identifier) @module
  (asterisk) @name) @reference.import

; ----------------------------------------------------------------- references

(method_invocation
  name: (identifier) @name) @reference.call

(object_creation_expression
  type: [(type_identifier) @name
         (generic_type (type_identifier) @name)
         (scoped_type_identifier (type_identifier) @name .)]) @reference.call

(marker_annotation
  name: (identifier) @name) @reference.type

(annotation
  name: (identifier) @name) @reference.type

(type_identifier) @name @reference.type
