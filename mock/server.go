package mock

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedtoken/fedtoken-mock/scenarios"
)

// Defaults for the zero Options.
const (
	DefaultJournalSize = 1000
	DefaultMaxSessions = 1000
	DefaultSessionTTL  = 30 * time.Minute
)

// Server is one mock instance: its scenarios, runtime switches and journal. All its state hangs
// off this value, so parallel tests each get their own.
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	latency  delay
	ft       *funcTypes
	contract contractChecker
	set      atomic.Pointer[scenarioSet]
	st       *state
	jr       *journal
	closing  chan struct{}
	closed   sync.Once
	bufs     sync.Pool // response buffers, so a body costs no fresh allocation

	reloadMu   sync.Mutex
	reloadErr  atomic.Pointer[LoadError]
	lastReload atomic.Pointer[time.Time]

	admin    *adminGuard
	handler  http.Handler
	endpoint http.Handler
	adminH   http.Handler
}

// New loads the scenarios and builds a Server; a *LoadError lists every problem found.
func New(opts Options) (*Server, error) {
	lat, err := parseDelay(opts.Latency)
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	if opts.JournalSize == 0 {
		opts.JournalSize = DefaultJournalSize
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		now:     opts.Now,
		latency: lat,
		ft:      newFuncTypes(),
		st:      newState(opts.MaxSessions, opts.SessionTTL),
		jr:      newJournal(opts.JournalSize),
		closing: make(chan struct{}),
	}
	s.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.contract, err = newContract(); err != nil {
		return nil, err
	}
	set, err := s.loadSet()
	if err != nil {
		return nil, err
	}
	s.set.Store(set)
	t := s.now()
	s.lastReload.Store(&t)
	s.admin = newAdminGuard(opts.AdminToken, s.log)
	s.handler = s.routes(true, true)
	s.endpoint = s.routes(true, false)
	s.adminH = s.routes(false, true)
	return s, nil
}

// loadSet reads every source afresh: built-ins, Files, then Dir.
func (s *Server) loadSet() (*scenarioSet, error) {
	builtin := s.opts.Builtin
	if builtin == nil {
		builtin = scenarios.FS
	}
	sources := []source{{fsys: builtin, builtin: true}}
	if s.opts.Files != nil {
		sources = append(sources, source{fsys: s.opts.Files, label: "files"})
	}
	if s.opts.Dir == "" {
		l := &loader{ft: s.ft, contract: s.contract}
		return l.load(sources)
	}
	src, closeDir, err := dirSource(s.opts.Dir)
	if err != nil {
		return nil, &LoadError{Problems: []Problem{{File: s.opts.Dir, Message: unwrapPathError(errors.Unwrap(err)).Error()}}}
	}
	defer closeDir()
	sources = append(sources, src)
	// Files are read one by one; a digest taken before and after the load tells whether an editor or
	// a deploy changed them meanwhile, in which case the load is retried rather than mixing versions.
	for range maxLoadAttempts {
		before := digestSource(src)
		l := &loader{ft: s.ft, contract: s.contract}
		set, err := l.load(sources)
		if digestSource(src) == before {
			return set, err
		}
	}
	return nil, &LoadError{Problems: []Problem{{File: s.opts.Dir, Message: fmt.Sprintf("files kept changing while being read (%d attempts); reload again once they settle", maxLoadAttempts)}}}
}

// maxLoadAttempts bounds the retries of a load whose files change while it reads them.
const maxLoadAttempts = 3

// Handler serves the token endpoint, the admin API and the panel on one port.
func (s *Server) Handler() http.Handler { return s.handler }

// EndpointHandler serves only the token endpoint (for a separate admin listener).
func (s *Server) EndpointHandler() http.Handler { return s.endpoint }

// AdminHandler serves only the admin API and panel (for a separate admin listener).
func (s *Server) AdminHandler() http.Handler { return s.adminH }

// ReloadReport says what a successful reload loaded and which runtime switches it dropped.
type ReloadReport struct {
	Scenarios int      `json:"scenarios"`
	Dropped   []string `json:"dropped"`
}

// Reload re-reads every scenario source and swaps the new set in whole, or keeps the old one
// and returns a *LoadError, which health then reports until a reload succeeds.
func (s *Server) Reload() (ReloadReport, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	set, err := s.loadSet()
	if err != nil {
		var le *LoadError
		if !errors.As(err, &le) {
			le = &LoadError{Problems: []Problem{{File: "scenarios", Message: err.Error()}}}
		}
		s.reloadErr.Store(le)
		return ReloadReport{}, le
	}
	// The set is swapped first and stale switches dropped just after; a request in between may meet
	// a switch naming a scenario the new set lacks, which selection skips like no switch at all.
	s.set.Store(set)
	dropped := s.st.retain(func(name string) bool { _, ok := set.byName[name]; return ok })
	s.reloadErr.Store(nil)
	t := s.now()
	s.lastReload.Store(&t)
	if dropped == nil {
		dropped = []string{}
	}
	return ReloadReport{Scenarios: len(set.ordered), Dropped: dropped}, nil
}

// Close releases requests held by hanging scenarios so a shutdown does not wait on them;
// delayed responses still complete. The Server keeps answering other requests.
func (s *Server) Close() { s.closed.Do(func() { close(s.closing) }) }
