package mock

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Switch is a runtime override of what the endpoint answers, optionally expiring.
type Switch struct {
	Scenario  string     `json:"scenario"`
	TimesLeft *int       `json:"times_left,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// SwitchOption limits how long a switch stays in force.
type SwitchOption func(*switchEntry, time.Time)

// Times makes a switch apply to the next n matching requests only, then revert.
func Times(n int) SwitchOption {
	return func(e *switchEntry, _ time.Time) { e.times = n }
}

// TTL makes a switch revert after d.
func TTL(d time.Duration) SwitchOption {
	return func(e *switchEntry, now time.Time) { e.expires = now.Add(d) }
}

// switchEntry is a live switch; times 0 means unlimited, a zero expires means never.
type switchEntry struct {
	scenario string
	times    int
	expires  time.Time
}

func (e *switchEntry) live(now time.Time) bool {
	return e != nil && (e.expires.IsZero() || now.Before(e.expires))
}

func (e *switchEntry) view() *Switch {
	if e == nil {
		return nil
	}
	sw := &Switch{Scenario: e.scenario}
	if e.times > 0 {
		n := e.times
		sw.TimesLeft = &n
	}
	if !e.expires.IsZero() {
		t := e.expires.UTC()
		sw.ExpiresAt = &t
	}
	return sw
}

// switches is one scope's overrides: a global one and one per provider.
type switches struct {
	global    *switchEntry
	providers map[string]*switchEntry
}

func (s *switches) empty() bool { return s.global == nil && len(s.providers) == 0 }

// take returns the scenario the scope's switches select for provider, consuming one use of a
// counted switch and dropping expired ones. It reports which kind of switch answered.
func (s *switches) take(provider string, now time.Time) (name string, perProvider bool, ok bool) {
	if e := s.providers[provider]; e != nil {
		if e.live(now) {
			if e.use() {
				delete(s.providers, provider)
			}
			return e.scenario, true, true
		}
		delete(s.providers, provider)
	}
	if e := s.global; e != nil {
		if e.live(now) {
			if e.use() {
				s.global = nil
			}
			return e.scenario, false, true
		}
		s.global = nil
	}
	return "", false, false
}

// use counts one answer against a counted switch and reports whether that was its last.
func (e *switchEntry) use() (spent bool) {
	if e.times == 0 {
		return false
	}
	e.times--
	return e.times == 0
}

// view reports the live switches of the scope.
func (s *switches) view(now time.Time) ScopeState {
	st := ScopeState{Providers: map[string]*Switch{}}
	if s.global.live(now) {
		st.Global = s.global.view()
	}
	for p, e := range s.providers {
		if e.live(now) {
			st.Providers[p] = e.view()
		}
	}
	return st
}

// session is the state of one X-Mock-Session key.
type session struct {
	key       string
	lastSeen  time.Time
	requests  uint64
	switches  switches
	positions map[seqKey]int
}

// maxPositions bounds the sequence positions kept per scope (global, or one session).
const maxPositions = 10000

// seqKey locates a sequence's position: per provider (and per session, by living in it).
type seqKey struct {
	scenario string
	provider string
}

// state holds every runtime switch, session and sequence position behind one mutex. Requests
// with no session skip the lock entirely while no global switch or sequence is in play.
type state struct {
	mu          sync.Mutex
	global      switches
	positions   map[seqKey]int
	sessions    map[string]*session
	maxSessions int
	ttl         time.Duration
	active      atomic.Int32 // global or provider switches in force
	counter     atomic.Uint64
}

func newState(maxSessions int, ttl time.Duration) *state {
	return &state{
		global:      switches{providers: map[string]*switchEntry{}},
		positions:   map[seqKey]int{},
		sessions:    map[string]*session{},
		maxSessions: maxSessions,
		ttl:         ttl,
	}
}

// Reasons a scenario was selected, as sent in X-Mock-Selected-By.
const (
	byAuth           = "auth"
	byHeader         = "header"
	byPrefer         = "prefer"
	bySessionSwitch  = "session-switch"
	byProviderSwitch = "provider-switch"
	byGlobalSwitch   = "global-switch"
	byProvider       = "provider"
	byDefault        = "default"
)

// lookup resolves the runtime switches for one request and returns the request's position in
// its session (or in the whole run without one), which seeds its fake data.
// With consult false it only counts the request (a header already chose its scenario).
func (st *state) lookup(sessionKey, provider string, now time.Time, consult bool) (name, reason string, position uint64) {
	if sessionKey == "" && (!consult || st.active.Load() == 0) {
		return "", "", st.counter.Add(1) - 1
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if sessionKey != "" {
		s := st.sessionLocked(sessionKey, now)
		position = s.requests
		s.requests++
		if !consult {
			return "", "", position
		}
		if n, _, ok := s.switches.take(provider, now); ok {
			return n, bySessionSwitch, position
		}
	} else {
		position = st.counter.Add(1) - 1
	}
	n, perProvider, ok := st.global.take(provider, now)
	st.active.Store(int32(st.countGlobalLocked()))
	if !ok {
		return "", "", position
	}
	if perProvider {
		return n, byProviderSwitch, position
	}
	return n, byGlobalSwitch, position
}

func (st *state) countGlobalLocked() int {
	n := len(st.global.providers)
	if st.global.global != nil {
		n++
	}
	return n
}

// sessionLocked finds or creates a session, evicting expired ones and, when full, the idlest.
func (st *state) sessionLocked(key string, now time.Time) *session {
	if s, ok := st.sessions[key]; ok {
		if now.Sub(s.lastSeen) <= st.ttl {
			s.lastSeen = now
			return s
		}
		// An idle session expired: its key starts afresh, as if never seen.
		delete(st.sessions, key)
	}
	if len(st.sessions) >= st.maxSessions {
		st.expireLocked(now)
	}
	if len(st.sessions) >= st.maxSessions {
		var oldest *session
		for _, s := range st.sessions {
			if oldest == nil || s.lastSeen.Before(oldest.lastSeen) {
				oldest = s
			}
		}
		delete(st.sessions, oldest.key)
	}
	s := &session{key: key, lastSeen: now, switches: switches{providers: map[string]*switchEntry{}}, positions: map[seqKey]int{}}
	st.sessions[key] = s
	return s
}

func (st *state) expireLocked(now time.Time) {
	for k, s := range st.sessions {
		if now.Sub(s.lastSeen) > st.ttl {
			delete(st.sessions, k)
		}
	}
}

// step advances a sequence for one request and returns the step's index (which may run past the end).
func (st *state) step(sessionKey, scenario, provider string, now time.Time) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	positions := st.positions
	if sessionKey != "" {
		positions = st.sessionLocked(sessionKey, now).positions
	}
	k := seqKey{scenario: scenario, provider: provider}
	i, ok := positions[k]
	if !ok && len(positions) >= maxPositions {
		// Bounded memory with endless distinct providers: the oldest positions are not tracked,
		// so start over rather than grow.
		clear(positions)
	}
	positions[k] = i + 1
	return i
}

// set installs a switch in the given scope; session "" is global, provider "" the scope's global switch.
func (st *state) set(sessionKey, provider, scenario string, now time.Time, opts ...SwitchOption) {
	e := &switchEntry{scenario: scenario}
	for _, o := range opts {
		o(e, now)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sw := &st.global
	if sessionKey != "" {
		sw = &st.sessionLocked(sessionKey, now).switches
	}
	if provider == "" {
		sw.global = e
	} else {
		sw.providers[provider] = e
	}
	st.active.Store(int32(st.countGlobalLocked()))
}

// clear removes a switch; it reports whether there was one.
func (st *state) clear(sessionKey, provider string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	sw := &st.global
	if sessionKey != "" {
		s, ok := st.sessions[sessionKey]
		if !ok {
			return false
		}
		sw = &s.switches
	}
	existed := false
	if provider == "" {
		existed = sw.global != nil
		sw.global = nil
	} else {
		_, existed = sw.providers[provider]
		delete(sw.providers, provider)
	}
	st.active.Store(int32(st.countGlobalLocked()))
	return existed
}

// dropSession forgets a session entirely; it reports whether it existed.
func (st *state) dropSession(key string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.sessions[key]
	delete(st.sessions, key)
	return ok
}

// reset clears every switch, session and sequence position.
func (st *state) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.global = switches{providers: map[string]*switchEntry{}}
	st.positions = map[seqKey]int{}
	st.sessions = map[string]*session{}
	st.active.Store(0)
}

// retain drops switches naming scenarios the new set lacks and resets every sequence position
// (a sequence may have changed); it returns what was dropped, for the reload's answer.
func (st *state) retain(exists func(string) bool) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var dropped []string
	filter := func(scope string, sw *switches) {
		if sw.global != nil && !exists(sw.global.scenario) {
			dropped = append(dropped, scope+"global: "+sw.global.scenario)
			sw.global = nil
		}
		for p, e := range sw.providers {
			if !exists(e.scenario) {
				dropped = append(dropped, scope+"provider "+p+": "+e.scenario)
				delete(sw.providers, p)
			}
		}
	}
	filter("", &st.global)
	for k, s := range st.sessions {
		filter("session "+k+" ", &s.switches)
		s.positions = map[seqKey]int{}
	}
	st.positions = map[seqKey]int{}
	st.active.Store(int32(st.countGlobalLocked()))
	sort.Strings(dropped)
	return dropped
}

// ScopeState is the switches in force in one scope.
type ScopeState struct {
	Global    *Switch            `json:"global"`
	Providers map[string]*Switch `json:"providers"`
}

// State is every runtime switch in force.
type State struct {
	Global    *Switch               `json:"global"`
	Providers map[string]*Switch    `json:"providers"`
	Sessions  map[string]ScopeState `json:"sessions"`
}

// SessionInfo describes one live session.
type SessionInfo struct {
	Key      string    `json:"key"`
	LastSeen time.Time `json:"last_seen"`
	Requests uint64    `json:"requests"`
	ScopeState
}

func (st *state) view(now time.Time) State {
	st.mu.Lock()
	defer st.mu.Unlock()
	// An expired session's switches are no longer in force: its next request starts afresh.
	st.expireLocked(now)
	g := st.global.view(now)
	out := State{Global: g.Global, Providers: g.Providers, Sessions: map[string]ScopeState{}}
	for k, s := range st.sessions {
		if !s.switches.empty() {
			out.Sessions[k] = s.switches.view(now)
		}
	}
	return out
}

func (st *state) sessionList(now time.Time) []SessionInfo {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expireLocked(now)
	out := make([]SessionInfo, 0, len(st.sessions))
	for _, s := range st.sessions {
		out = append(out, SessionInfo{Key: s.key, LastSeen: s.lastSeen.UTC(), Requests: s.requests, ScopeState: s.switches.view(now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
