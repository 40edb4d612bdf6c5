/**
 * Group processing, as a database's group commit does it: items submitted while every batch slot is
 * busy wait together and go into the next batch as one, so N callers at once cost about one round
 * trip (and one commit) rather than N. A batch starts as soon as a slot is free: a lone caller waits
 * for nobody. Every item is submitted before the batch that takes it starts.
 */
export interface Batcher<Item, Result> {
  /** Resolves with the item's own outcome from the batch that takes it. */
  submit(item: Item): Promise<Result>;
}

export interface BatcherOptions {
  /** Batches under way at once. */
  concurrency: number;
  /** Items a batch takes at most; the rest wait for the next. */
  maxItems: number;
}

interface Pending<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * `run` answers each item of a batch with its own settled outcome, in order, so one item's failure
 * fails no other; should `run` itself reject, every item of that batch rejects with its error.
 */
export function createBatcher<Item, Result>(
  run: (items: Item[]) => Promise<Array<PromiseSettledResult<Result>>>,
  { concurrency, maxItems }: BatcherOptions,
): Batcher<Item, Result> {
  const queue: Array<Pending<Item, Result>> = [];
  let running = 0;

  const startBatches = () => {
    while (running < concurrency && queue.length > 0) {
      const batch = queue.splice(0, maxItems);
      running++;
      run(batch.map((pending) => pending.item))
        .then(
          (outcomes) =>
            batch.forEach((pending, i) => {
              const outcome = outcomes[i]!;
              if (outcome.status === 'fulfilled') pending.resolve(outcome.value);
              else pending.reject(outcome.reason);
            }),
          (error: unknown) => batch.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          running--;
          startBatches();
        });
    }
  };

  return {
    submit: (item) =>
      new Promise<Result>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        startBatches();
      }),
  };
}
