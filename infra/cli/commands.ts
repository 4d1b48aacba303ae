/**
 * The `cvm` commands: one line each for `cvm --help`, and the full usage each command prints for
 * `--help` or a usage error. Kept apart from the commands so that `cvm <command> --help` answers without
 * loading the command (and the AWS SDK, DuckDB and the stand-ins behind it).
 */

export interface CommandInfo {
  summary: string;
  usage: string;
}

export const COMMANDS = {
  up: {
    summary: 'start the local stack, ingest the sample if empty, recalculate, serve the API and report',
    usage: `Usage: cvm up [--port N] [--inbox DIR] [--as-of YYYY-MM-DD] [--no-sample]

Starts the local pipeline: S3 and DynamoDB stand-ins with state in $CVM_HOME (default ./.cvm),
ingests the bundled sample when nothing was ingested yet, recalculates customer value, serves the
scores API and the run report on http://127.0.0.1:<port> (default 3000), and watches the inbox
folder (default $CVM_HOME/inbox): drop an export there (or in inbox/<source>/) to ingest it; a
recalculation follows.
  --as-of     observation end of recalculations (default: the last complete day with data,
              at most yesterday — the same default as 'cvm recalc' and the weekly schedule)
  --debounce  milliseconds to wait after the last dropped file before recalculating (default 2000)
  --no-sample start without the bundled sample: it is not ingested, its clean data is removed if it
              was, and runs leave it out. Without this flag the sample (source "sample") is left
              out of runs as soon as another source has data; the run output says so.
Environment: CVM_API_KEY / CVM_ADMIN_KEY protect the API as with 'cvm serve'.`,
  },
  ingest: {
    summary: 'ingest export files into the local stack: cvm ingest <file...> [--source NAME]',
    usage: `Usage: cvm ingest <file...> [--source NAME] [--config mapping.json] [--customers | --subscriptions] [--json]

Uploads each file to incoming/<source>/<file name> in the local stack and ingests it.
  --source NAME      source name (folder under incoming/); default "default"
  --config FILE      column mapping / parsing options for the source, stored as
                     config/sources/<source>.json (see docs/ingest.md)
  --customers        the files are customer attributes exports (uploaded to
                     incoming/<source>/customers/; see docs/economics.md)
  --subscriptions    the files are subscriptions (memberships) exports, uploaded to
                     incoming/<source>/subscriptions/ (see docs/ingest.md)
  --json             print one JSON report per file, one per line
State lives in $CVM_HOME (default ./.cvm). Exit code 1 when a file failed or was quarantined.`,
  },
  summarize: {
    summary: 'RFM summary of a transaction log: cvm summarize <transactions> --observation-end DATE',
    usage: `Usage: cvm summarize <transactions> --observation-end YYYY-MM-DD [options]

Per-customer RFM summary (frequency, recency, T, monetary_value) of a transaction log.
  --observation-end DATE   last day observed, inclusive (required)
  --unit days|weeks        time unit of recency and T (default days; weeks = days / 7)
  --calibration-end DATE   split: summary up to DATE, plus holdout columns after it
  --format csv|cdnow       input format (default: sniffed). csv: a header naming the customer,
                           date and amount columns with the ingest's aliases (customer_id,
                           klantnummer, date, besteldatum, amount, bedrag, …); delimiter , ; tab |
                           and decimal separator sniffed. cdnow: whitespace separated, no header,
                           master_id customer_id yyyymmdd quantity amount (CDNOW_sample.txt) or
                           customer_id yyyymmdd quantity amount (CDNOW_master.txt)
  --config FILE            the source mapping of 'cvm ingest --config' (columns, delimiter,
                           decimal, dateFormat, timezone), e.g. {"columns":{"customer_id":"Id",
                           "order_ts":"Date","amount":"Price"}}
  --out FILE               write the CSV to FILE instead of standard output
Rules (see docs/engine.md): a day is the UTC calendar date; same-day rows are summed; the first
purchase is the first day with net value ≥ 0 and is not counted in frequency; repeat purchases are
later days with net value > 0.`,
  },
  fit: {
    summary: 'fit BG/NBD, MBG/NBD, Pareto/NBD (+ Gamma-Gamma), BG/BB or sBG to a summary CSV',
    usage: `Usage: cvm fit <summary.csv> [--model bgnbd|mbgnbd|pareto|bgbb|sbg] [--penalizer X] [--json]
               [--out fit.json] [--time-unit days|weeks]

Fits a customer-base model by maximum likelihood to an RFM summary, and the Gamma-Gamma spend model
when the summary has a spend column.
  --model NAME     bgnbd (default), mbgnbd or pareto; bgbb (discrete opportunities:
                   columns frequency, recency, periods[, weights]) or sbg (subscriptions:
                   customer_id, recency = renewals made, T = renewal opportunities)
  --penalizer X    L2 penalty on the parameters (default 0); try 0.001–0.1 when a fit fails
  --time-limit S   stop a fit that has not finished after S seconds (default 30)
  --json           print {"model","params","logLikelihood","converged","customers",
                   "standardErrors","spend"} as one JSON object, plus
                   "identified": false and "warnings" when the data do not identify the fit
  --out FILE       also write the fit (model, parameters, time unit, penalizer, spend model,
                   identified/warnings) as JSON for 'cvm predict --params FILE'
  --time-unit U    unit of recency and T, stored in the fit file (default weeks)
Columns: frequency, recency, T[, monetary_value] (lifetimes) or x, t_x, T[, zbar] (BTYD);
an id column (ID, customer_id or first column) is optional. recency and T share one unit.`,
  },
  predict: {
    summary: 'per-customer predictions (P(alive), purchases, P(X = n), spend, CLV) of a summary CSV',
    usage: `Usage: cvm predict <summary.csv> [--model NAME] [--params fit.json] [--horizon N]
                   [--out scores.csv|scores.jsonl] [--max-n K]

Scores every customer of an RFM summary with a fitted model: the fit file of 'cvm fit --out', or
a fit made here first exactly as 'cvm fit' makes it (--model, --penalizer, --time-limit).
  --params FILE      fit file from 'cvm fit --out' (its model and time unit are used)
  --model NAME       bgnbd (default), mbgnbd, pareto, bgbb or sbg
  --horizon N        prediction horizon in the summary's unit (default: the CLV horizon,
                     12 months = 52.18 weeks); bgbb/sbg: future opportunities (default 1)
  --max-n K          columns p_0..p_K = P(n purchases in the horizon) (default 3)
  --out FILE         .csv or .jsonl (JSON Lines); default CSV on standard output
  --time-unit U      days or weeks: unit of recency and T when fitting here (default weeks)
  --clv-months M     CLV horizon in months (default 12, as a recalculation)
  --discount-rate R  yearly discount rate (default 0.1); bgbb/sbg: per opportunity
  --margin X         profit margin applied to spend (default 1)
Columns: customer_id (or row), p_alive, expected_purchases, p_no_purchase, p_0..p_K, and
expected_spend, clv when the summary has spend and the fit a spend model. bgbb: p_alive (next
opportunity), expected_transactions, dert; sbg: p_alive (next renewal), expected_renewals, derl.`,
  },
  recalc: {
    summary: 'run a value recalculation on the local stack: cvm recalc [--as-of DATE] [--model M]',
    usage: `Usage: cvm recalc [--as-of YYYY-MM-DD] [--model MODEL] [--family FAMILY] [--currency XXX] [--resume RUN] [--json]

Recalculates customer value on the local stack: summarize → holdout check → model choice →
fit → score → segment → publish, then prints what data it used and left out (and why), the
segments and the holdout accuracy.
  --as-of DATE       last day of data to use (inclusive); default the last complete day with data,
                     at most yesterday (UTC) — the same default as 'cvm up' and the weekly schedule
  --model MODEL      bgnbd (default), mbgnbd, pareto or auto (best holdout error)
  --family FAMILY    noncontractual-continuous, noncontractual-discrete or contractual: score the
                     sources of this family (default config/recalc.json); the others are listed
                     as left out (see docs/recalc.md, "Model families")
  --currency XXX     run currency (ISO 4217); default config/recalc.json, else the currency with the
                     most rows (own data before the bundled sample)
  --resume RUN       finish the failed run RUN with its own settings: skips the steps it completed
                     and scores only the parts without a result; refused for a published or unknown
                     run, or when the clean data changed since it started
  --json             print the run record as JSON instead of tables
Settings: config/recalc.json in the bucket (see docs/recalc.md). State lives in $CVM_HOME (default ./.cvm).`,
  },
  serve: {
    summary: 'serve the scores API on 127.0.0.1: cvm serve [--port N]',
    usage: `Usage: cvm serve [--port N]

Serves the scores API on http://127.0.0.1:<port> (default 8787; 0 = any free port).
  CVM_API_KEY     when set, read routes need the header x-api-key: <CVM_API_KEY>
  CVM_ADMIN_KEY   when set, admin routes (POST /runs, DELETE /customers/{id}) need
                  x-api-key: <CVM_ADMIN_KEY>; when unset they are refused
  CVM_CORS_ORIGINS  comma-separated origins allowed by CORS
State lives in $CVM_HOME (default ./.cvm). Stop with Ctrl+C.`,
  },
  forget: {
    summary: 'erase a customer: cvm forget <customerId>',
    usage: `Usage: cvm forget <customerId> [--force] [--json]

Adds sha256(customerId) to the suppression list (later ingests drop the customer's rows, later
recalculations leave the customer out), deletes every score of the customer (all runs), and
rewrites every stored file that holds the customer without their rows: uploaded exports, clean
Parquet, rejected rows, every run's summaries and change files, the local warehouse copy, event
files and handed-over inbox files (see docs/privacy.md).
An id with no score in any run changes nothing (a typo?) unless --force is given.
State lives in $CVM_HOME (default ./.cvm).`,
  },
} satisfies Record<string, CommandInfo>;

export type CommandName = keyof typeof COMMANDS;

export const usageOf = (name: CommandName): string => COMMANDS[name].usage;
