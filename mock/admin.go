package mock

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Limits on admin input.
const (
	maxAdminBody   = 64 << 10
	maxSwitchTTL   = 24 * time.Hour
	maxDeniedPeers = 1024
)

// adminGuard checks the admin token in constant time and logs each refused peer once.
type adminGuard struct {
	hash       [32]byte
	on         bool
	log        *slog.Logger
	mu         sync.Mutex
	denied     map[string]bool
	overflowed bool
}

func newAdminGuard(token string, log *slog.Logger) *adminGuard {
	g := &adminGuard{on: token != "", log: log, denied: map[string]bool{}}
	g.hash = sha256.Sum256([]byte(token))
	return g
}

// allowed compares hashes so neither the token's content nor its length leaks through timing.
func (g *adminGuard) allowed(authorization string) bool {
	if !g.on {
		return true
	}
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], g.hash[:]) == 1
}

func (g *adminGuard) require() gin.HandlerFunc {
	return func(c *gin.Context) {
		if g.allowed(c.Request.Header.Get("Authorization")) {
			c.Next()
			return
		}
		g.noteDenied(c.Request.RemoteAddr)
		c.Writer.Header().Set("WWW-Authenticate", `Bearer realm="fedtoken-mock admin"`)
		writeFailure(c.Writer, requestID(c), &mockFailure{status: http.StatusUnauthorized, code: "admin-unauthorized", title: "Admin token missing or wrong",
			detail: "this mock was started with --admin-token; send Authorization: Bearer <token>"})
		c.Abort()
	}
}

// noteDenied logs a refused admin call once per source address (never the token sent).
func (g *adminGuard) noteDenied(remote string) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	g.mu.Lock()
	seen := g.denied[host]
	full := len(g.denied) >= maxDeniedPeers
	if !seen && !full {
		g.denied[host] = true
	}
	// Past the cap one last line says so; after it nothing more is logged, so many source
	// addresses cannot flood the log either.
	overflow := !seen && full && !g.overflowed
	if overflow {
		g.overflowed = true
	}
	g.mu.Unlock()
	switch {
	case !seen && !full:
		g.log.Warn("admin call refused: missing or wrong admin token", slog.String("peer", host))
	case overflow:
		g.log.Warn("admin calls refused from more than the remembered number of peers; no further refusals are logged", slog.Int("peers", maxDeniedPeers))
	}
}

// adminFail answers an admin error as a JSON:API document.
func adminFail(c *gin.Context, f *mockFailure) {
	writeFailure(c.Writer, requestID(c), f)
	c.Abort()
}

func badRequest(code, format string, args ...any) *mockFailure {
	return &mockFailure{status: http.StatusBadRequest, code: code, title: "Bad admin request", detail: fmt.Sprintf(format, args...)}
}

func ok(c *gin.Context, v any) {
	requestID(c)
	writeJSON(c.Writer, http.StatusOK, mediaJSON, v)
}

// switchRequest is the body of every PUT that installs a switch.
type switchRequest struct {
	Scenario string `json:"scenario"`
	Times    *int   `json:"times,omitempty"`
	TTL      string `json:"ttl,omitempty"`
}

// decodeSwitch reads a switch body strictly: bounded size, one JSON object, no unknown members.
func decodeSwitch(r *http.Request) (switchRequest, []SwitchOption, *mockFailure) {
	var req switchRequest
	data, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return req, nil, badRequest("bad-body", "cannot read the request body: %v", err)
	}
	if len(data) > maxAdminBody {
		return req, nil, &mockFailure{status: http.StatusRequestEntityTooLarge, code: "body-too-large", title: "Admin request body too large", detail: fmt.Sprintf("admin bodies are limited to %d KiB", maxAdminBody>>10)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, nil, badRequest("malformed-json", `body must be {"scenario": "NAME", "times": N, "ttl": "30s"}: %v`, err)
	}
	if dec.More() {
		return req, nil, badRequest("malformed-json", "body holds more than one JSON value")
	}
	if req.Scenario == "" {
		return req, nil, badRequest("missing-scenario", `body needs "scenario": the name of the scenario to switch to`)
	}
	var opts []SwitchOption
	if req.Times != nil {
		if *req.Times < 1 {
			return req, nil, badRequest("bad-times", "times must be 1 or more, got %d", *req.Times)
		}
		opts = append(opts, Times(*req.Times))
	}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 || d > maxSwitchTTL {
			return req, nil, badRequest("bad-ttl", "ttl %q must be a duration between 1ns and %s, e.g. 30s", req.TTL, maxSwitchTTL)
		}
		opts = append(opts, TTL(d))
	}
	return req, opts, nil
}

// scope says where an admin switch applies.
type scope int

const (
	scopeGlobal scope = iota
	scopeProvider
	scopeSession
	scopeSessionProvider
)

func scopeKeys(c *gin.Context, sc scope) (session, provider string) {
	switch sc {
	case scopeProvider:
		return "", c.Param("provider")
	case scopeSession:
		return c.Param("session"), ""
	case scopeSessionProvider:
		return c.Param("session"), c.Param("provider")
	}
	return "", ""
}

func (s *Server) handleSetSwitch(sc scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, opts, fail := decodeSwitch(c.Request)
		if fail != nil {
			adminFail(c, fail)
			return
		}
		session, provider := scopeKeys(c, sc)
		if err := s.setSwitch(session, provider, req.Scenario, opts...); err != nil {
			adminFail(c, asFailure(err))
			return
		}
		ok(c, s.State())
	}
}

func (s *Server) handleClearSwitch(sc scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		session, provider := scopeKeys(c, sc)
		s.st.clear(session, provider)
		ok(c, s.State())
	}
}

func (s *Server) handleDropSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		s.DropSession(c.Param("session"))
		ok(c, s.State())
	}
}

func (s *Server) handleSessions() gin.HandlerFunc {
	return func(c *gin.Context) { ok(c, gin.H{"sessions": s.Sessions()}) }
}

func (s *Server) handleState() gin.HandlerFunc {
	return func(c *gin.Context) { ok(c, s.State()) }
}

func (s *Server) handleScenarios() gin.HandlerFunc {
	return func(c *gin.Context) {
		ok(c, gin.H{"default": defaultScenario, "scenarios": s.Scenarios()})
	}
}

func (s *Server) handleHealth() gin.HandlerFunc {
	return func(c *gin.Context) { ok(c, s.Health()) }
}

func (s *Server) handleReset() gin.HandlerFunc {
	return func(c *gin.Context) {
		s.Reset()
		ok(c, s.State())
	}
}

func (s *Server) handleReload() gin.HandlerFunc {
	return func(c *gin.Context) {
		report, err := s.Reload()
		if err != nil {
			adminFail(c, asFailure(err))
			return
		}
		ok(c, report)
	}
}

func (s *Server) handleRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		q := c.Request.URL.Query()
		f := RequestFilter{Provider: q.Get("provider"), Scenario: q.Get("scenario"), Session: q.Get("session")}
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				adminFail(c, badRequest("bad-limit", "limit must be a non-negative integer, got %q", truncate(l, 50)))
				return
			}
			f.Limit = n
		}
		ok(c, gin.H{"requests": s.Requests(f)})
	}
}

func (s *Server) handleClearRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		s.ClearRequests()
		ok(c, gin.H{"requests": []Request{}})
	}
}

// UnknownScenarioError is returned when a switch names a scenario the set lacks.
type UnknownScenarioError struct {
	Name  string
	Known []string
}

// Error lists the scenarios that exist.
func (e *UnknownScenarioError) Error() string {
	return fmt.Sprintf("no scenario named %q; known: %s", truncate(e.Name, 100), strings.Join(e.Known, ", "))
}

// asFailure maps library errors to the admin API's answers.
func asFailure(err error) *mockFailure {
	var us *UnknownScenarioError
	var le *LoadError
	switch {
	case errors.As(err, &us):
		return &mockFailure{status: http.StatusBadRequest, code: "unknown-scenario", title: "Unknown mock scenario", detail: us.Error()}
	case errors.As(err, &le):
		f := &mockFailure{status: http.StatusUnprocessableEntity, code: "invalid-scenarios",
			title:  "Reload refused; the previous scenarios keep serving",
			detail: fmt.Sprintf("%d problem(s) in the scenario files", len(le.Problems))}
		for _, p := range le.Problems {
			f.more = append(f.more, apiError{Code: "invalid-scenario", Title: "Invalid scenario file", Detail: p.String(),
				Meta: map[string]any{"file": p.File, "line": p.Line, "message": p.Message}})
		}
		return f
	}
	return &mockFailure{status: http.StatusInternalServerError, code: "admin-failed", title: "Admin call failed", detail: err.Error()}
}
