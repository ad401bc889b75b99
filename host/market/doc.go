// Package market is Vire's shared market-data service: quotes, end-of-day
// history, fundamentals, dividends and search from the configured
// sdk.MarketData source, cached in the store's market namespace
// (market/<kind>/<name>) and in memory. Market data is the same for every
// tenant: it is never encrypted and never holds tenant data, and the
// source is always called with the operator's credentials.
//
// # Freshness
//
// Each kind of document has its own idea of fresh, judged against the
// trading hours of the ticker's exchange (Calendar):
//
//   - quotes: QuoteTTL (a minute) while the exchange trades and until its
//     delayed final quote is out; then until the next session;
//   - EOD history and dividends: until the next session's EOD data falls
//     due upstream, some time after that exchange's close;
//   - fundamentals: FundamentalsTTL (7 days); search results: SearchTTL.
//
// A read serves fresh data from memory, else from the store (another
// instance may have refreshed it), else asks the source. Concurrent reads
// of one document in a process share one upstream call; across instances
// the stored freshness keeps duplicate refreshes rare. When the source
// fails and older data is stored, the older data is served marked stale.
//
// # History
//
// EOD history is stored per ticker as daily bars and merged by date:
// a reply never replaces stored bars it lacks, so a short reply loses
// nothing, and an empty reply neither writes nor marks anything fresh.
// Bars whose close jumps more than 40% away from both neighbours and back
// are flagged Suspect. Weekly and monthly bars are built from the daily
// ones.
//
// # Daily refresh
//
// RefreshDaily (run by Run every RefreshInterval) brings every tracked
// ticker up to its exchange's latest session, choosing per exchange
// between one call per ticker and one bulk call by EODHD's prices. A lease
// per exchange and session in the store lets one instance do it.
package market
