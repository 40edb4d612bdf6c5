/**
 * Every form of every shape, derived from the same rows as the database returns them, agrees field by
 * field: the SQL encodings equal the JavaScript ones byte for byte (v1 and line, with and without the
 * export options), the v1 JSON text parses to the v1 API object, the v2 API object holds the same
 * values with the custom data under `custom` and the promoted fields lifted, and a line holds them with
 * users by id. Adding a field to a shape is then checked in every form by this one test.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/database/database.types.js';
import { jsonEncoder } from '../../src/lib/shapes/shape-json.js';
import { objectPresenter } from '../../src/lib/shapes/shape-object.js';
import {
  fieldsOf,
  fitsPromoted,
  isColumnField,
  isSuppliedField,
  type FlatForm,
  type Shape,
} from '../../src/lib/shapes/shape.js';
import { createApp } from '../../src/modules/apps/apps.usecases.js';
import { exportSqlDialects, type ExportSqlDialect } from '../../src/modules/exports/export-sql.dialects.js';
import { literal, shapeSql } from '../../src/modules/exports/export-sql.js';
import { testDialects } from '../helpers/databases.js';
import { openTestContext, type TestContext } from '../helpers/test-context.js';
import { shapeFixtures, type ShapeFixture } from './shape-fixtures.js';

type Json = Record<string, unknown>;
const OPTIONS: Array<Record<string, boolean>> = [{}, { clearDeletedText: true }];

/** Look-ups and supplied values that read alike in every form: objects, their JSON, and that JSON in SQL. */
const lookedUp = (id: string) => ({ id, looked_up: true });
const suppliedValue = (name: string) => ({ supplied: name });

function suppliedNames(shape: Shape<unknown>): string[] {
  return shape.fields.filter(isSuppliedField).map((field) => field.name);
}

async function sqlEncoding(
  db: Kysely<Database>,
  dialect: ExportSqlDialect,
  fixture: ShapeFixture,
  row: Json,
  form: FlatForm,
  options: Record<string, boolean>,
): Promise<string> {
  const names = suppliedNames(fixture.shape);
  const encoded = shapeSql(dialect, fixture.shape, form, {
    column: (name) => (fixture.table ? `t.${name}` : literal(String(row[name]))),
    user: (id) => dialect.concat([`'{"id":'`, dialect.quote(id), `',"looked_up":true}'`]),
    values: Object.fromEntries(names.map((name) => [name, literal(JSON.stringify(suppliedValue(name)))])),
    options,
  });
  const where = fixture.table
    ? sql` from ${sql.table(fixture.table)} t where ${sql.raw(fixture.where('t', row))}`
    : sql``;
  const { rows } = await sql<{ json: string }>`select ${sql.raw(encoded)} as json${where}`.execute(db);
  const json = rows[0]!.json as unknown;
  return Buffer.isBuffer(json) ? json.toString('utf8') : String(json);
}

function javascriptEncoding(
  fixture: ShapeFixture,
  row: Json,
  form: FlatForm,
  options: Record<string, boolean>,
): string {
  const names = suppliedNames(fixture.shape);
  return jsonEncoder(fixture.shape, form, { supplied: names, options })(row, {
    user: (id) => JSON.stringify(lookedUp(id)),
    values: Object.fromEntries(names.map((name) => [name, JSON.stringify(suppliedValue(name))])),
  });
}

function expectFormsAgree(shape: Shape<unknown>, row: Json, v1: Json, v2: Json, line: Json): void {
  const known = shape.known;
  const v1Custom = Object.fromEntries(Object.entries(v1).filter(([key]) => !known.has(key)));
  for (const field of fieldsOf(shape, 'v2')) {
    if (field.forms.includes('v1')) expect(v2[field.name], `v2 ${field.name}`).toEqual(v1[field.name]);
    else if (!isColumnField(field) && !isSuppliedField(field))
      expect(v2[field.name], `v2 ${field.name}`).toEqual(field.value);
  }
  if (shape.custom !== undefined) {
    const lifted = { ...(v2.custom as Json) };
    for (const promoted of shape.promoted) {
      const kept = v1Custom[promoted.name];
      if (kept !== undefined && fitsPromoted(promoted, kept)) lifted[promoted.name] = v2[promoted.name];
      else if (promoted.default !== undefined)
        expect(v2[promoted.name], `v2 ${promoted.name}`).toEqual(promoted.default);
    }
    expect(lifted, 'v2 custom and promoted fields').toEqual(v1Custom);
  }
  for (const field of fieldsOf(shape, 'line')) {
    const value = line[field.name];
    if (isColumnField(field) && field.kind === 'user')
      expect(value, `line ${field.name}`).toEqual(row[field.column] ?? undefined);
    else if (isColumnField(field) && field.kind === 'users')
      expect(value, `line ${field.name}`).toEqual(JSON.parse(row[field.column] as string));
    else if (isSuppliedField(field)) expect(value, `line ${field.name}`).toEqual(suppliedValue(field.name));
    else if (field.forms.includes('v1')) expect(value, `line ${field.name}`).toEqual(v1[field.name]);
  }
  if (shape.custom !== undefined) {
    const lineCustom = Object.fromEntries(Object.entries(line).filter(([key]) => !known.has(key)));
    expect(lineCustom, 'line custom').toEqual(v1Custom);
  }
}

describe.each(testDialects)('every form of every shape agrees, from the same stored rows (%s)', (dialect) => {
  let t: TestContext;
  let appId: number;
  const fixtures = shapeFixtures();

  beforeAll(async () => {
    t = await openTestContext(dialect);
    const { db, clock } = t.context;
    appId = (await createApp({ db, clock, name: 'shapes' })).id;
    for (const fixture of fixtures) await fixture.store?.(db, appId);
  });
  afterAll(() => t.close());

  for (const fixture of fixtures) {
    for (const [index, description] of fixture.rows.entries()) {
      it(`${fixture.shape.name} ${index + 1} (${description})`, async () => {
        const { db } = t.context;
        const row = await fixture.read(db, appId, index);
        const exportSql = exportSqlDialects[t.context.dialect.name];
        for (const options of OPTIONS) {
          for (const form of ['v1', 'line'] as const) {
            const javascript = javascriptEncoding(fixture, row, form, options);
            expect(
              await sqlEncoding(db, exportSql, fixture, row, form, options),
              `${form} ${JSON.stringify(options)}`,
            ).toBe(javascript);
          }
        }
        const supplies = {
          user: lookedUp,
          values: Object.fromEntries(suppliedNames(fixture.shape).map((name) => [name, suppliedValue(name)])),
        };
        const v1 = objectPresenter(fixture.shape, 'v1')(row, supplies);
        const v2 = objectPresenter(fixture.shape, 'v2')(row, supplies);
        expect(JSON.parse(javascriptEncoding(fixture, row, 'v1', {})), 'v1 text and object').toEqual(v1);
        const line = JSON.parse(javascriptEncoding(fixture, row, 'line', {})) as Json;
        expectFormsAgree(fixture.shape, row, v1, v2, line);
        fixture.check?.(row, { v1, v2, line });
      });
    }
  }
});
