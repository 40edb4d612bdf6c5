/**
 * What a request body may name besides the fields a route implements. Body schemas are closed: any
 * other field is refused with 400 code 4 naming it, so no option is accepted and silently ignored.
 *
 * Client-only fields: the request fields chatport accepts and ignores: each matters only to a real-time client (a
 * WebSocket connection, a device receiving pushes), and chatport serves no connections and sends no
 * pushes. Every other field a request body names is either implemented or refused with 400 code 4
 * naming it (the body schemas are closed). Route schemas take their client-only fields from here,
 * and docs/data-model.md lists them with these reasons.
 */
import { Type, type TNever, type TOptional, type TProperties, type TSchema, type TUnknown } from 'typebox';

const Pagination = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 0 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const CLIENT_ONLY_FIELDS = {
  watch: {
    schema: Type.Boolean(),
    why: "subscribes the caller's connection to the channel's events; chatport has no connections",
  },
  presence: {
    schema: Type.Boolean(),
    why: "subscribes the caller's connection to the users' online status",
  },
  state: {
    schema: Type.Boolean(),
    why: 'asks a connection-less call for the channel state; chatport always answers it',
  },
  watchers: {
    schema: Pagination,
    why: "pages the channel's watchers (connected users); chatport has none and answers `watchers: []`",
  },
  thread_unread_counts: {
    schema: Type.Boolean(),
    why: "asks for the connected user's unread thread counts; chatport keeps no read state",
  },
  skip_push: {
    schema: Type.Boolean(),
    why: 'sends no push notification to devices; chatport sends none anyway',
  },
  skip_enrich_url: {
    schema: Type.Boolean(),
    why: "skips fetching link previews for a message's URLs; chatport fetches none anyway",
  },
} as const satisfies Record<string, { schema: TSchema; why: string }>;

export type ClientOnlyField = keyof typeof CLIENT_ONLY_FIELDS;

/** Schema properties for these client-only fields, each optional, to spread into a body schema. */
export function clientOnlyFields<const Names extends readonly ClientOnlyField[]>(
  ...names: Names
): { [Name in Names[number]]: TOptional<(typeof CLIENT_ONLY_FIELDS)[Name]['schema']> } {
  return Object.fromEntries(
    names.map((name) => [name, Type.Optional(CLIENT_ONLY_FIELDS[name].schema)]),
  ) as never;
}

/**
 * Schema properties refusing fields Stream defines inside an object that also carries custom data
 * (a channel's `data`, a `message`, a `reaction`, a user): there an unknown name is a custom field and
 * is stored, but these names are Stream's own options chatport does not implement, so they are
 * refused (400 code 4 naming them) rather than stored as custom data with no effect.
 */
export function refusedFields(...names: readonly string[]): Record<string, TOptional<TNever>> {
  return Object.fromEntries(names.map((name) => [name, Type.Optional(Type.Never())]));
}

/** A closed body: its fields and nothing else. */
export function closedObject<Properties extends TProperties>(properties: Properties) {
  return Type.Object(properties, { additionalProperties: false });
}

/**
 * Schema properties declaring fields a handler reads and checks itself (a message's `text`, ...), so
 * the served schema names what is implemented; their values are validated where they are read.
 */
export function handledFields(...names: readonly string[]): Record<string, TOptional<TUnknown>> {
  return Object.fromEntries(names.map((name) => [name, Type.Optional(Type.Unknown())]));
}
