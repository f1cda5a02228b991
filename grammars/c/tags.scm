; Quill tags for C.
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(function_definition
  declarator: (function_declarator
    declarator: (identifier) @name)) @definition.function

(function_definition
  declarator: (pointer_declarator
    declarator: [(function_declarator declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator declarator: (identifier) @name))])) @definition.function

; Prototypes (headers) are definitions too: they are where the API is written down.
(declaration
  declarator: (function_declarator
    declarator: (identifier) @name)) @definition.function

(declaration
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name))) @definition.function

(preproc_function_def
  name: (identifier) @name) @definition.function

(preproc_def
  name: (identifier) @name) @definition.constant

(struct_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

(union_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

(enum_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

; `typedef struct {...} Name;`: the typedef is the definition and its fields nest in it.
(type_definition
  type: [(struct_specifier !name body: (_))
         (union_specifier !name body: (_))
         (enum_specifier !name body: (_))]
  declarator: (type_identifier) @name) @definition.class

; Any other typedef: only the new name (a named struct body is its own definition).
(type_definition
  declarator: (type_identifier) @name @definition.class)

(enumerator
  name: (identifier) @name) @definition.constant

(field_declaration
  declarator: [(field_identifier) @name
               (pointer_declarator declarator: (field_identifier) @name)
               (array_declarator declarator: (field_identifier) @name)]) @definition.variable

(translation_unit
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (array_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))]) @definition.variable)

; ------------------------------------------------------------------- imports

(preproc_include
  path: (string_literal (string_content) @name @module)) @reference.import

(preproc_include
  path: (system_lib_string) @name @module) @reference.import

; ----------------------------------------------------------------- references

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(type_identifier) @name @reference.type
