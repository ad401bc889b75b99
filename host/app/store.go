package app

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
)

// Document-cache bounds: enough for every document of a busy personal
// server, small next to the memory of the smallest host that runs Vire.
const (
	cacheEntries = 10_000
	cacheBytes   = 64 << 20
)

// openStore builds the document store over the configured storage: the
// personal layout when authentication is off, encryption when a keys block
// is configured.
func (a *App) openStore(log hclog.Logger) error {
	layout := store.Layout{Personal: a.Config.Auth.Mode == config.AuthNone}
	var sealer store.Sealer
	if a.Keys != nil {
		env, err := crypt.New(crypt.Options{
			Provider:   a.Keys,
			ProviderID: a.Config.Keys.Plugin,
			Keyrings:   store.NewKeyrings(a.Storage, layout),
			Logger:     log.Named("crypt"),
		})
		if err != nil {
			return fmt.Errorf("encryption: %w", err)
		}
		a.Envelope = env
		sealer = env
	}
	cache, err := a.documentCache(log.Named("store"))
	if err != nil {
		return err
	}
	s, err := store.New(store.Options{Backend: a.Storage, Layout: layout, Sealer: sealer, Cache: cache, Logger: log.Named("store")})
	if err != nil {
		return err
	}
	a.Store = s
	return nil
}

// documentCache is the in-memory LRU, in front of a cache shared by every
// instance when a cache block is configured: a document any instance read
// or wrote is then a hit for all of them. Both hold blobs as stored, sealed
// when encryption is on.
func (a *App) documentCache(log hclog.Logger) (store.Cache, error) {
	lru, err := store.NewLRU(cacheEntries, cacheBytes)
	if err != nil {
		return nil, err
	}
	if a.Cache == nil {
		return lru, nil
	}
	shared, err := store.NewBlobCache(a.Cache, store.BlobCacheOptions{Prefix: store.DefaultBlobCachePrefix, Logger: log})
	if err != nil {
		return nil, err
	}
	return store.Tiered{Near: lru, Far: shared}, nil
}
