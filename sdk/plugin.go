package sdk

import "context"

// Kind names a component type. A binary may serve several kinds.
type ComponentKind string

const (
	KindStorage ComponentKind = "storage"
	KindKeys    ComponentKind = "keys"
	KindSource  ComponentKind = "source"
)

// Plugin is implemented by every component.
type Plugin interface {
	// Schema declares the configuration the component accepts.
	Schema() ConfigSchema
	// Configure receives the configuration decoded against Schema. It is
	// called before any other method except Schema, and again after a plugin
	// restart. It returns ConfigErrors when the values are unacceptable.
	Configure(ctx context.Context, cfg ConfigValue) error
	// Health returns nil when the component can serve.
	Health(ctx context.Context) error
}

// ProtocolVersion is the wire protocol this SDK speaks. The host negotiates
// the highest version both sides support.
const ProtocolVersion = 1

// Description is what `<plugin> describe` prints and what the host reports.
type Description struct {
	Name            string          `json:"name"`
	Version         string          `json:"version"`
	ProtocolVersion int             `json:"protocol_version"`
	Components      []ComponentInfo `json:"components"`
}

// ComponentInfo describes one component a plugin binary serves.
type ComponentInfo struct {
	Kind ComponentKind `json:"kind"`
	// Interfaces lists what the component implements, e.g. "BlobStore",
	// "MarketData", "PortfolioSource".
	Interfaces   []string          `json:"interfaces"`
	Schema       ConfigSchema      `json:"schema"`
	Capabilities *BlobCapabilities `json:"capabilities,omitempty"`
}
