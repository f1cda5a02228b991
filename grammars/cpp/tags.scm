; Quill tags for C++.
; Capture vocabulary: see grammars/README.md. Earlier patterns win when two capture the
; same identifier, so specific patterns come before general ones.

; ---------------------------------------------------------------- definitions

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name) @definition.module

; `void Layout::update() {...}` outside the class: a method of Layout (the scope).
(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
      scope: (_) @scope
      name: [(identifier) (destructor_name) (operator_name)] @name))) @definition.method

(function_definition
  declarator: [(pointer_declarator
                 declarator: (function_declarator
                   declarator: (qualified_identifier
                     scope: (_) @scope
                     name: [(identifier) (destructor_name) (operator_name)] @name)))
               (reference_declarator
                 (function_declarator
                   declarator: (qualified_identifier
                     scope: (_) @scope
                     name: [(identifier) (destructor_name) (operator_name)] @name)))]) @definition.method

; Inside a class body, functions are reported as methods by the extractor.
(function_definition
  declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)) @definition.function

(function_definition
  declarator: [(pointer_declarator
                 declarator: (function_declarator
                   declarator: [(identifier) (field_identifier) (operator_name)] @name))
               (reference_declarator
                 (function_declarator
                   declarator: [(identifier) (field_identifier) (operator_name)] @name))]) @definition.function

; Declarations: member functions in a class body, prototypes in headers.
(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (destructor_name) (operator_name)] @name)) @definition.method

(field_declaration_list
  (declaration
    declarator: (function_declarator
      declarator: [(identifier) (destructor_name) (operator_name)] @name)) @definition.method)

(declaration
  declarator: (function_declarator
    declarator: (identifier) @name)) @definition.function

(preproc_function_def
  name: (identifier) @name) @definition.function

(preproc_def
  name: (identifier) @name) @definition.constant

(class_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

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

(alias_declaration
  name: (type_identifier) @name) @definition.class

(concept_definition
  name: (identifier) @name) @definition.interface

(enumerator
  name: (identifier) @name) @definition.constant

(field_declaration
  declarator: [(field_identifier) @name
               (pointer_declarator declarator: (field_identifier) @name)
               (array_declarator declarator: (field_identifier) @name)]) @definition.variable

; Namespace-level variables: UPPER_CASE ones are constants.
([(translation_unit
    (declaration
      declarator: [(identifier) @name
                   (init_declarator declarator: (identifier) @name)]) @definition.constant)
  (declaration_list
    (declaration
      declarator: [(identifier) @name
                   (init_declarator declarator: (identifier) @name)]) @definition.constant)]
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

[(translation_unit
   (declaration
     declarator: [(identifier) @name
                  (init_declarator declarator: (identifier) @name)]) @definition.variable)
 (declaration_list
   (declaration
     declarator: [(identifier) @name
                  (init_declarator declarator: (identifier) @name)]) @definition.variable)]

; ------------------------------------------------------------------- imports

(preproc_include
  path: (string_literal (string_content) @name @module)) @reference.import

(preproc_include
  path: (system_lib_string) @name @module) @reference.import

(using_declaration
  (qualified_identifier
    scope: (_) @module
    name: (identifier) @name)) @reference.import

; ----------------------------------------------------------------- references

(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (qualified_identifier
    name: (identifier) @name)) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (template_function
    name: (identifier) @name)) @reference.call

(call_expression
  function: (qualified_identifier
    name: (template_function
      name: (identifier) @name))) @reference.call

(new_expression
  type: (type_identifier) @name) @reference.call

(base_class_clause
  (type_identifier) @name @reference.type)

(type_identifier) @name @reference.type
