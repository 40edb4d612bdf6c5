/**
 * What `@stream-io/node-sdk`'s types promise, checked at run time: its declaration file is read with
 * the TypeScript compiler, and a response is walked against the interface the SDK types it with:
 * every property not marked optional must be there, and every value must have its declared type
 * (dates arrive as Date objects: the SDK decodes them).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

type Properties = Map<string, { optional: boolean; type: ts.TypeNode }>;

let declarations: Map<string, Properties> | undefined;

function sdkDeclarations(): Map<string, Properties> {
  if (declarations) return declarations;
  const entry = createRequire(import.meta.url).resolve('@stream-io/node-sdk');
  const file = path.join(path.dirname(entry), 'src', 'gen', 'models', 'index.d.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  declarations = new Map();
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement)) continue;
    const properties: Properties = new Map();
    for (const member of statement.members) {
      if (ts.isPropertySignature(member) && member.type && ts.isIdentifier(member.name))
        properties.set(member.name.text, { optional: member.questionToken !== undefined, type: member.type });
    }
    declarations.set(statement.name.text, properties);
  }
  return declarations;
}

/** The names the SDK declares on an interface (a UserResponse's `name`, `role`, ...). */
export function declaredFields(interfaceName: string): Set<string> {
  const properties = sdkDeclarations().get(interfaceName);
  if (!properties) throw new Error(`@stream-io/node-sdk declares no ${interfaceName}`);
  return new Set(properties.keys());
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function check(value: unknown, type: ts.TypeNode, at: string, problems: string[]): void {
  const wrong = (expected: string) =>
    problems.push(`${at}: expected ${expected}, got ${JSON.stringify(value)}`);
  switch (type.kind) {
    case ts.SyntaxKind.StringKeyword:
      if (typeof value !== 'string') wrong('a string');
      return;
    case ts.SyntaxKind.NumberKeyword:
      if (typeof value !== 'number') wrong('a number');
      return;
    case ts.SyntaxKind.BooleanKeyword:
      if (typeof value !== 'boolean') wrong('a boolean');
      return;
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return;
  }
  if (ts.isArrayTypeNode(type)) {
    if (!Array.isArray(value)) return void wrong('an array');
    value.forEach((item, i) => check(item, type.elementType, `${at}[${i}]`, problems));
    return;
  }
  if (ts.isLiteralTypeNode(type)) {
    const literal = type.literal;
    if (ts.isStringLiteral(literal) && value !== literal.text) wrong(JSON.stringify(literal.text));
    return;
  }
  if (ts.isUnionTypeNode(type)) {
    const fits = type.types.some((member) => {
      const inner: string[] = [];
      check(value, member, at, inner);
      return inner.length === 0;
    });
    if (!fits) wrong(type.getText?.() ?? 'one of a union');
    return;
  }
  if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
    const name = type.typeName.text;
    if (name === 'Date') {
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) wrong('a valid Date');
      return;
    }
    if (name === 'Record') {
      if (!isObject(value)) return void wrong('an object');
      const valueType = type.typeArguments?.[1];
      if (valueType)
        for (const [key, item] of Object.entries(value)) check(item, valueType, `${at}.${key}`, problems);
      return;
    }
    // Interfaces are walked; type aliases (string unions such as ChannelOwnCapability) are let through.
    if (sdkDeclarations().has(name)) problems.push(...sdkTypeProblems(value, name, at));
    return;
  }
  if (ts.isTypeLiteralNode(type) && !isObject(value)) wrong('an object');
}

/**
 * What in `value` breaks the SDK's interface `interfaceName`: a required property missing, or a value
 * of another type (nested interfaces included). Empty when it keeps every promise.
 */
export function sdkTypeProblems(value: unknown, interfaceName: string, at = interfaceName): string[] {
  const properties = sdkDeclarations().get(interfaceName);
  if (!properties) throw new Error(`@stream-io/node-sdk declares no ${interfaceName}`);
  if (!isObject(value)) return [`${at}: expected a ${interfaceName} object, got ${JSON.stringify(value)}`];
  const problems: string[] = [];
  for (const [name, property] of properties) {
    const field = value[name];
    if (field === undefined) {
      if (!property.optional) problems.push(`${at}.${name}: required by the SDK's type, missing`);
      continue;
    }
    check(field, property.type, `${at}.${name}`, problems);
  }
  return problems;
}
