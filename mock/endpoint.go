package mock

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/rs/xid"
)

// maxRequestBody is how much of an (ignored) request body is read before answering.
const maxRequestBody = 1 << 20

// Headers a client sends to steer the mock, and the ones it answers with.
const (
	headerScenario   = "X-Mock-Scenario"
	headerSession    = "X-Mock-Session"
	headerSelectedBy = "X-Mock-Selected-By"
	headerStep       = "X-Mock-Step"
	headerRequestID  = "Request-Id"
	sessionCookie    = "fedtoken_mock_session"
	maxSessionKeyLen = 200
)

// selection is the outcome of choosing what answers one request.
type selection struct {
	sc       *scenario // the scenario selected (a sequence, when it is one)
	step     *scenario // what actually answers: sc, or the sequence's current step
	reason   string
	position uint64
	failure  *mockFailure
}

// choose applies the selection rules in their documented order.
func (s *Server) choose(set *scenarioSet, r *http.Request, provider, sessionKey string, now time.Time) selection {
	if !s.opts.AuthOff && !hasBearer(r.Header.Get("Authorization")) {
		return s.withPosition(selection{sc: set.byName[unauthorizedScenario], reason: byAuth}, sessionKey, provider, now)
	}
	if name := r.Header.Get(headerScenario); name != "" {
		sc, ok := set.byName[name]
		if !ok {
			return selection{failure: unknownScenario(set, "X-Mock-Scenario", name)}
		}
		return s.withPosition(selection{sc: sc, reason: byHeader}, sessionKey, provider, now)
	}
	if prefs := r.Header.Values("Prefer"); len(prefs) > 0 {
		p := parsePrefer(prefs)
		switch {
		case p.example != "":
			sc, ok := set.byName[p.example]
			if !ok {
				return selection{failure: unknownScenario(set, "Prefer: example=", p.example)}
			}
			return s.withPosition(selection{sc: sc, reason: byPrefer}, sessionKey, provider, now)
		case p.badCode != "":
			return selection{failure: unknownScenario(set, "Prefer: code=", p.badCode)}
		case p.code != 0:
			sc, ok := set.byStatus[p.code]
			if !ok {
				return selection{failure: unknownScenario(set, "Prefer: code=", strconv.Itoa(p.code))}
			}
			return s.withPosition(selection{sc: sc, reason: byPrefer}, sessionKey, provider, now)
		}
	}
	name, reason, pos := s.st.lookup(sessionKey, provider, now, true)
	if sc, ok := set.byName[name]; ok && reason != "" {
		return selection{sc: sc, reason: reason, position: pos}
	}
	if sc, ok := set.byProvider[provider]; ok {
		return selection{sc: sc, reason: byProvider, position: pos}
	}
	return selection{sc: set.def, reason: byDefault, position: pos}
}

func (s *Server) withPosition(sel selection, sessionKey, provider string, now time.Time) selection {
	_, _, sel.position = s.st.lookup(sessionKey, provider, now, false)
	return sel
}

func unknownScenario(set *scenarioSet, where, name string) *mockFailure {
	name = truncate(name, 100)
	return &mockFailure{
		status: http.StatusBadRequest,
		code:   "unknown-scenario",
		title:  "Unknown mock scenario",
		detail: fmt.Sprintf("%s %q matches no scenario; known: %s", where, name, strings.Join(set.names, ", ")),
	}
}

// hasBearer reports whether an Authorization value is "Bearer <something>", as the real API requires.
func hasBearer(v string) bool {
	scheme, token, ok := strings.Cut(v, " ")
	return ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// sessionOf reads the session key from the header, else from the cookie.
func sessionOf(r *http.Request) string {
	key := r.Header.Get(headerSession)
	if key == "" {
		if c, err := r.Cookie(sessionCookie); err == nil {
			key = c.Value
		}
	}
	if len(key) > maxSessionKeyLen {
		key = key[:maxSessionKeyLen]
	}
	return key
}

// resolveStep turns a sequence into the step that answers this request.
func (s *Server) resolveStep(sel *selection, provider, sessionKey string, now time.Time) {
	sc := sel.sc
	if sc.sequence == nil {
		sel.step = sc
		return
	}
	i := s.st.step(sessionKey, sc.name, provider, now)
	n := len(sc.steps)
	switch {
	case i < n:
		sel.step = sc.steps[i]
	case sc.then == thenCycle:
		sel.step = sc.steps[i%n]
	case sc.then == thenFail:
		sel.failure = &mockFailure{
			status: http.StatusConflict,
			code:   "sequence-exhausted",
			title:  "Mock sequence exhausted",
			detail: fmt.Sprintf("sequence %q has answered all %d steps for this provider and session; reset it with POST /__admin/reset", sc.name, n),
		}
	default:
		sel.step = sc.steps[n-1]
	}
}

// exchange is everything one request needs on the heap, allocated together so a request costs
// one allocation for its bookkeeping rather than one per value.
type exchange struct {
	entry  Request
	vars   Vars
	ridBuf [20]byte
	rid    [1]string
}

// handleToken serves the token endpoint.
func (s *Server) handleToken() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := s.now()
		r, w := c.Request, c.Writer
		ex := &exchange{}
		xid.New().Encode(ex.ridBuf[:])
		// The id's text lives inside ex, which the journal entry keeps alive as long as the string.
		rid := unsafe.String(&ex.ridBuf[0], len(ex.ridBuf))
		ex.rid[0] = rid
		h := w.Header()
		h[headerRequestID] = ex.rid[:]
		if r.ContentLength != 0 {
			// The body is ignored, but reading (a bounded part of) it keeps keep-alive connections usable.
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxRequestBody))
		}

		provider := c.Param("provider")
		if provider == "" {
			// The real router matches only a non-empty segment; answering here would hide a client's bug.
			handleNoRoute(c)
			return
		}
		sessionKey := sessionOf(r)
		set := s.set.Load()
		sel := s.choose(set, r, provider, sessionKey, start)
		if sel.failure == nil {
			s.resolveStep(&sel, provider, sessionKey, start)
		}
		entry := &ex.entry
		*entry = Request{
			Time: start.UTC(), Method: r.Method, Path: r.URL.Path, Provider: provider,
			Session: sessionKey, SelectedBy: sel.reason, RequestID: rid,
		}
		if sel.sc != nil {
			entry.Scenario = sel.sc.name
			h[headerScenario] = sel.sc.nameValue
			h[headerSelectedBy] = reasonValue(sel.reason)
		}
		if sel.failure != nil {
			writeFailure(w, rid, sel.failure)
			entry.Status = sel.failure.status
			s.finish(r, entry, start)
			return
		}
		step := sel.step
		if step != sel.sc {
			entry.Step = step.name
			h[headerStep] = step.nameValue
		}
		entry.Status, entry.Fault = step.status, step.fault

		f := set.getFaker()
		defer set.putFaker(f)
		s.seedFaker(f, sessionKey, provider, sel.position)
		wait := s.latency.draw(f.rnd) + sel.sc.delay.draw(f.rnd)
		if step != sel.sc {
			wait += step.delay.draw(f.rnd)
		}
		if wait > 0 && !s.sleep(r.Context(), wait) {
			entry.Fault = "client-gone"
			s.finish(r, entry, start)
			return
		}
		ex.vars = Vars{Provider: provider, RequestID: rid, Session: sessionKey, Scenario: step.name, Status: step.status}
		s.respond(w, r, step, f, &ex.vars, entry)
		s.finish(r, entry, start)
	}
}

// reasonValues are the X-Mock-Selected-By header values, made once: response headers share them.
var reasonValues = map[string][]string{
	byAuth: {byAuth}, byHeader: {byHeader}, byPrefer: {byPrefer}, bySessionSwitch: {bySessionSwitch},
	byProviderSwitch: {byProviderSwitch}, byGlobalSwitch: {byGlobalSwitch}, byProvider: {byProvider}, byDefault: {byDefault},
}

func reasonValue(reason string) []string {
	if v, ok := reasonValues[reason]; ok {
		return v
	}
	return []string{reason}
}

// seedFaker makes the request's fake data random, or with a seed a function of seed, session,
// provider and the request's position in its session, so parallel tests get stable values.
func (s *Server) seedFaker(f *faker, sessionKey, provider string, position uint64) {
	if s.opts.Seed == 0 {
		f.seed(rand.Uint64(), rand.Uint64())
		return
	}
	hs := fnv.New64a()
	_, _ = hs.Write([]byte(sessionKey))
	_, _ = hs.Write([]byte{0})
	_, _ = hs.Write([]byte(provider))
	f.seed(s.opts.Seed, hs.Sum64()^(position*0x9E3779B97F4A7C15))
}

// sleep waits d, or less if the client goes away; it reports whether the wait completed.
// Delays deliberately outlive Close so that a graceful shutdown lets delayed responses finish.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// respond writes the step's response, or its fault.
func (s *Server) respond(w gin.ResponseWriter, r *http.Request, sc *scenario, f *faker, v *Vars, entry *Request) {
	switch sc.fault {
	case faultConnectionReset:
		abortConnection(w, true)
		return
	case faultEmptyResponse:
		abortConnection(w, false)
		return
	case faultHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		abortConnection(w, false)
		return
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := (*bp)[:0]
	if sc.body != nil {
		var err error
		if buf, err = sc.body.render(buf, f, v); err != nil {
			// Templates are checked at load; a failure here is the mock's own and must say so.
			*bp = buf
			s.log.Error("placeholder failed", slog.String("scenario", sc.name), slog.String("error", err.Error()))
			writeFailure(w, v.RequestID, &mockFailure{status: http.StatusInternalServerError, code: "render-failed", title: "Mock failed to render the scenario", detail: err.Error()})
			entry.Status = http.StatusInternalServerError
			return
		}
	}
	*bp = buf
	h := w.Header()
	for k, vs := range sc.header {
		h[k] = vs
	}
	if sc.fault == faultMalformedBody {
		buf = truncateJSON(buf)
	}
	if sc.lengthValue != nil && sc.fault == "" {
		h["Content-Length"] = sc.lengthValue
	} else {
		h.Set("Content-Length", strconv.Itoa(len(buf)))
	}
	w.WriteHeader(sc.status)
	_, _ = w.Write(buf)
}

// truncateJSON cuts a body mid-value so that no JSON parser accepts it.
func truncateJSON(b []byte) []byte {
	if len(b) < 4 {
		return []byte(`{"access_token": "`)
	}
	return b[:len(b)/2]
}

// abortConnection ends the connection without an HTTP response; reset sends a TCP RST.
func abortConnection(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// finish records the request in the journal and the log.
func (s *Server) finish(r *http.Request, e *Request, start time.Time) {
	ctx := r.Context()
	e.DurationMS = float64(s.now().Sub(start).Microseconds()) / 1000
	if s.jr.enabled() {
		e.Headers = redact(r.Header)
		s.jr.add(e)
	}
	if s.log.Enabled(ctx, slog.LevelInfo) {
		// A fixed array keeps the attributes off the heap; empty optional ones are left out.
		var arr [10]slog.Attr
		// Five attributes fit slog's inline record; the rest are added only when they say something.
		attrs := append(arr[:0],
			slog.String("request_id", e.RequestID),
			slog.String("provider", e.Provider),
			slog.String("scenario", e.Scenario),
			slog.Int("status", e.Status),
			slog.Float64("duration_ms", e.DurationMS))
		if e.SelectedBy != byDefault {
			attrs = append(attrs, slog.String("selected_by", e.SelectedBy))
		}
		if e.Session != "" {
			attrs = append(attrs, slog.String("session", e.Session))
		}
		if e.Step != "" {
			attrs = append(attrs, slog.String("step", e.Step))
		}
		if e.Fault != "" {
			attrs = append(attrs, slog.String("fault", e.Fault))
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	}
}
