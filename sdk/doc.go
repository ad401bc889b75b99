// Package sdk is what a Vire plugin author imports.
//
// Vire's host knows outside systems only through the interfaces declared
// here: BlobStore (storage backends), KeyProvider (key-encryption keys),
// MarketData and PortfolioSource (data sources). Every component also
// implements Plugin, which declares a configuration schema, accepts the
// decoded configuration and reports health.
//
// A plugin binary calls Serve with one or several components; the host runs it
// as a hashicorp/go-plugin subprocess over gRPC. The errors in this package
// survive that process boundary, so the host can test them with errors.Is and
// errors.As whether a component runs in-process or in a plugin.
//
// The conformance suites in sdk/plugintest prove that a component behaves as
// the host expects.
package sdk
