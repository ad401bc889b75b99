package app

import (
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/market"
)

// openMarket builds the shared market service over the first source block
// (in configuration order) whose plugin serves market data. Without one
// the service answers every call with "unavailable", saying how to add a
// source.
func (a *App) openMarket(log hclog.Logger) error {
	o := market.Options{Store: a.Store, Logger: log.Named("market")}
	for _, c := range a.Config.Sources {
		if src := a.Sources[c.Name]; src.Market != nil {
			o.Source, o.SourceName = src.Market, c.Plugin
			break
		}
	}
	svc, err := market.New(o)
	if err != nil {
		return err
	}
	a.Market = svc
	switch o.SourceName {
	case "":
		log.Info("market data: none, no source block serves it; /api/market answers 503 until one is added (see docs/market.md)")
	case "sample":
		log.Info("market data: sample (synthetic, offline) — set up EODHD with a source \"eodhd\" \"market\" block and EODHD_API_KEY; see docs/market.md")
	default:
		log.Info("market data", "source", o.SourceName)
	}
	return nil
}
