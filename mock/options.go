package mock

import (
	"io/fs"
	"log/slog"
	"time"
)

// Options configure a Server; the zero value serves the built-in scenarios with auth required.
type Options struct {
	// Builtin replaces the embedded built-in scenario set; nil means scenarios.FS.
	Builtin fs.FS
	// Files are user scenario files layered over the built-ins (a file with a built-in's name replaces it).
	Files fs.FS
	// Dir is a directory of user scenario files, layered over Files; it is re-read on Reload.
	Dir string
	// AuthOff disables the bearer-token gate (the `--auth off` flag).
	AuthOff bool
	// Seed makes fake data reproducible; 0 means random.
	Seed uint64
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// JournalSize bounds the request journal; 0 means 1000, negative disables it.
	JournalSize int
	// AdminToken, when set, is required as a bearer token on every admin call but health.
	AdminToken string
	// MaxSessions bounds the live sessions; 0 means 1000.
	MaxSessions int
	// SessionTTL expires idle sessions; 0 means 30 minutes.
	SessionTTL time.Duration
	// Latency is added to every response, e.g. "50ms..150ms"; empty means none.
	Latency string
	// Version is reported by health; empty means "dev".
	Version string
	// Now replaces the clock in tests; nil means time.Now.
	Now func() time.Time
}
