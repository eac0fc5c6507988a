package mock

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiErrorDoc is a JSON:API error document as a client decodes it.
type apiErrorDoc struct {
	Errors []struct {
		ID     string         `json:"id"`
		Status string         `json:"status"`
		Code   string         `json:"code"`
		Title  string         `json:"title"`
		Detail string         `json:"detail"`
		Meta   map[string]any `json:"meta"`
	} `json:"errors"`
}

// decodeAs decodes a recorded JSON answer into T, failing the test if it is not JSON.
func decodeAs[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), "body: %s", w.Body.String())
	return v
}

// requireAPIError checks that w is the mock's own JSON:API error with status and code, and returns it.
func requireAPIError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) apiErrorDoc {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	assert.Equal(t, "application/vnd.api+json", w.Header().Get("Content-Type"))
	assert.Equal(t, code, w.Header().Get("X-Mock-Error"))
	doc := decodeAs[apiErrorDoc](t, w)
	require.NotEmpty(t, doc.Errors)
	rid := w.Header().Get("Request-Id")
	assert.Len(t, rid, 20)
	for _, e := range doc.Errors {
		assert.Equal(t, rid, e.ID, "every error carries the Request-Id")
		assert.Equal(t, strconv.Itoa(status), e.Status)
	}
	assert.Equal(t, code, doc.Errors[0].Code)
	return doc
}

// adminState reads GET /__admin/state through h.
func adminState(t testing.TB, h http.Handler, headers ...string) State {
	t.Helper()
	w := perform(t, h, http.MethodGet, "/__admin/state", "", headers...)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return decodeAs[State](t, w)
}

// adminOK performs an admin call that must answer 200 and returns the answer.
func adminOK(t testing.TB, h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	w := perform(t, h, method, path, body, headers...)
	require.Equal(t, http.StatusOK, w.Code, "%s %s: %s", method, path, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	return w
}

// scenarioOf is what answered a recorded endpoint response and why.
func scenarioOf(w *httptest.ResponseRecorder) (scenario, selectedBy string) {
	return w.Header().Get("X-Mock-Scenario"), w.Header().Get("X-Mock-Selected-By")
}

// lockedBuffer is a bytes.Buffer safe for a logger written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAdminHealth(t *testing.T) {
	for _, token := range []string{"", "s3cret"} {
		t.Run("token="+token, func(t *testing.T) {
			s := newTestServer(t, Options{AdminToken: token, Version: "1.2.3"})
			w := adminOK(t, s.Handler(), http.MethodGet, "/__admin/health", "")
			h := decodeAs[map[string]any](t, w)
			assert.Equal(t, "ok", h["status"])
			assert.Equal(t, "1.2.3", h["version"])
			assert.EqualValues(t, len(builtinOrder), h["scenarios"])
			assert.NotContains(t, h, "reload_error", "no failed reload yet")
			_, err := time.Parse(time.RFC3339Nano, h["last_reload"].(string))
			assert.NoError(t, err)
		})
	}
}

func TestAdminScenarios(t *testing.T) {
	files := fstest.MapFS{"teapot.yaml": {Data: []byte("description: short and stout\nstatus: 418\ncontract: off\nproviders: [kettle, pot]\nbody:\n  errors:\n    - code: teapot\n")}}
	s := newTestServer(t, Options{Files: files})
	w := adminOK(t, s.Handler(), http.MethodGet, "/__admin/scenarios", "")
	type scenariosDoc struct {
		Default   string           `json:"default"`
		Scenarios []map[string]any `json:"scenarios"`
	}
	doc := decodeAs[scenariosDoc](t, w)
	assert.Equal(t, "success", doc.Default)

	var names []string
	byName := map[string]map[string]any{}
	for _, sc := range doc.Scenarios {
		names = append(names, sc["name"].(string))
		byName[sc["name"].(string)] = sc
		for _, k := range []string{"name", "description", "providers", "contract", "source"} {
			assert.Contains(t, sc, k, "scenario %v", sc["name"])
		}
	}
	assert.Equal(t, append(append([]string(nil), builtinOrder...), "teapot"), names, "built-ins in documented order, then user files")

	tests := []struct {
		name  string
		check map[string]any
	}{
		{"success", map[string]any{"status": 200.0, "contract": true, "source": "builtin", "providers": []any{}}},
		{"internal-error", map[string]any{"status": 500.0, "contract": true, "providers": []any{"broken"}}},
		{"refresh-then-success", map[string]any{"contract": true, "sequence": []any{"unauthorized", "success"}, "then": "repeat-last"}},
		{"link-then-success", map[string]any{"contract": true, "sequence": []any{"missing-linked-identity", "success"}}},
		{"slow", map[string]any{"delay": "2s..5s", "status": 200.0}},
		{"timeout", map[string]any{"fault": "hang", "contract": false}},
		{"connection-reset", map[string]any{"fault": "connection-reset", "contract": false}},
		{"malformed-body", map[string]any{"fault": "malformed-body", "status": 200.0, "contract": false}},
		{"service-unavailable", map[string]any{"status": 503.0, "contract": false}},
		{"teapot", map[string]any{"status": 418.0, "contract": false, "source": "files/teapot.yaml", "providers": []any{"kettle", "pot"}, "description": "short and stout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := byName[tt.name]
			require.NotNil(t, sc)
			for k, v := range tt.check {
				assert.Equal(t, v, sc[k], k)
			}
		})
	}
	assert.NotContains(t, byName["success"], "sequence")
	assert.NotContains(t, byName["success"], "fault")
	assert.NotContains(t, byName["timeout"], "status", "a fault that sends nothing has no status")
}

func TestAdminSwitchCalls(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()

	st := decodeAs[State](t, adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"not-found"}`))
	require.NotNil(t, st.Global, "PUT answers the new state")
	assert.Equal(t, "not-found", st.Global.Scenario)
	assert.Nil(t, st.Global.TimesLeft)
	assert.Nil(t, st.Global.ExpiresAt)

	st = decodeAs[State](t, adminOK(t, h, http.MethodPut, "/__admin/providers/mobypay", `{"scenario":"internal-error"}`))
	assert.Equal(t, map[string]*Switch{"mobypay": {Scenario: "internal-error"}}, st.Providers)
	assert.Equal(t, "not-found", st.Global.Scenario)
	assert.Empty(t, st.Sessions)

	assert.Equal(t, st, adminState(t, h), "GET state agrees with the PUT's answer")

	tests := []struct {
		provider, scenario, selectedBy string
		status                         int
	}{
		{"mobypay", "internal-error", "provider-switch", 500},
		{"other", "not-found", "global-switch", 404},
	}
	for _, tt := range tests {
		w := postToken(t, h, tt.provider)
		assert.Equal(t, tt.status, w.Code)
		sc, by := scenarioOf(w)
		assert.Equal(t, tt.scenario, sc)
		assert.Equal(t, tt.selectedBy, by)
	}

	st = decodeAs[State](t, adminOK(t, h, http.MethodDelete, "/__admin/providers/mobypay", ""))
	assert.Empty(t, st.Providers)
	assert.Equal(t, "not-found", st.Global.Scenario)
	_, by := scenarioOf(postToken(t, h, "mobypay"))
	assert.Equal(t, "global-switch", by)

	st = decodeAs[State](t, adminOK(t, h, http.MethodDelete, "/__admin/scenario", ""))
	assert.Nil(t, st.Global)
	_, by = scenarioOf(postToken(t, h, "mobypay"))
	assert.Equal(t, "default", by)

	// Clearing what is not there is not an error.
	adminOK(t, h, http.MethodDelete, "/__admin/scenario", "")
	adminOK(t, h, http.MethodDelete, "/__admin/providers/never-set", "")

	// A PUT replaces the previous switch of the same scope.
	adminOK(t, h, http.MethodPut, "/__admin/providers/p", `{"scenario":"not-found"}`)
	st = decodeAs[State](t, adminOK(t, h, http.MethodPut, "/__admin/providers/p", `{"scenario":"unauthorized","times":2}`))
	require.Contains(t, st.Providers, "p")
	assert.Equal(t, "unauthorized", st.Providers["p"].Scenario)
	require.NotNil(t, st.Providers["p"].TimesLeft)
	assert.Equal(t, 2, *st.Providers["p"].TimesLeft)
}

// TestPrecedence peels one selection rule off at a time, from the strongest down.
func TestPrecedence(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	const provider = "broken" // listed by the built-in internal-error
	adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"malformed-body"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/"+provider, `{"scenario":"unauthorized"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/s1/scenario", `{"scenario":"service-unavailable"}`)

	steps := []struct {
		name       string
		headers    []string
		peel       func() // removes a rule before the request
		scenario   string
		selectedBy string
	}{
		{"auth beats everything", []string{"X-Mock-Scenario: not-found", "Prefer: example=missing-linked-identity", "X-Mock-Session: s1"}, nil, "unauthorized", "auth"},
		{"header", []string{"Authorization: Bearer t", "X-Mock-Scenario: not-found", "Prefer: example=missing-linked-identity", "X-Mock-Session: s1"}, nil, "not-found", "header"},
		{"prefer example", []string{"Authorization: Bearer t", "Prefer: example=missing-linked-identity", "X-Mock-Session: s1"}, nil, "missing-linked-identity", "prefer"},
		{"prefer code", []string{"Authorization: Bearer t", "Prefer: code=404", "X-Mock-Session: s1"}, nil, "not-found", "prefer"},
		{"session switch by header", []string{"Authorization: Bearer t", "X-Mock-Session: s1"}, nil, "service-unavailable", "session-switch"},
		{"session switch by cookie", []string{"Authorization: Bearer t", "Cookie: fedtoken_mock_session=s1"}, nil, "service-unavailable", "session-switch"},
		{"provider switch", []string{"Authorization: Bearer t", "X-Mock-Session: s1"}, func() {
			adminOK(t, h, http.MethodDelete, "/__admin/sessions/s1/scenario", "")
		}, "unauthorized", "provider-switch"},
		{"global switch", []string{"Authorization: Bearer t", "X-Mock-Session: s1"}, func() {
			adminOK(t, h, http.MethodDelete, "/__admin/providers/"+provider, "")
		}, "malformed-body", "global-switch"},
		{"provider list", []string{"Authorization: Bearer t", "X-Mock-Session: s1"}, func() {
			adminOK(t, h, http.MethodDelete, "/__admin/scenario", "")
		}, "internal-error", "provider"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.peel != nil {
				st.peel()
			}
			w := perform(t, h, http.MethodPost, tokenURL(provider), "", st.headers...)
			sc, by := scenarioOf(w)
			assert.Equal(t, st.scenario, sc)
			assert.Equal(t, st.selectedBy, by)
			assert.Len(t, w.Header().Get("Request-Id"), 20)
		})
	}
	t.Run("default", func(t *testing.T) {
		w := postToken(t, h, "no-list-names-me", "X-Mock-Session: s1")
		assert.Equal(t, http.StatusOK, w.Code)
		sc, by := scenarioOf(w)
		assert.Equal(t, "success", sc)
		assert.Equal(t, "default", by)
	})
}

func TestAdminReset(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"refresh-then-success"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/p", `{"scenario":"not-found"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/k/scenario", `{"scenario":"internal-error"}`)
	assert.Equal(t, http.StatusUnauthorized, postToken(t, h, "mobypay").Code, "sequence step 1")
	assert.Equal(t, http.StatusOK, postToken(t, h, "mobypay").Code, "sequence step 2")
	postToken(t, h, "p", "X-Mock-Session: k")
	require.Len(t, s.Requests(RequestFilter{}), 3)

	st := decodeAs[State](t, adminOK(t, h, http.MethodPost, "/__admin/reset", ""))
	empty := State{Providers: map[string]*Switch{}, Sessions: map[string]ScopeState{}}
	assert.Equal(t, empty, st)
	assert.Equal(t, empty, adminState(t, h))
	assert.Empty(t, decodeAs[map[string][]Request](t, adminOK(t, h, http.MethodGet, "/__admin/requests", ""))["requests"])
	assert.Empty(t, decodeAs[map[string][]SessionInfo](t, adminOK(t, h, http.MethodGet, "/__admin/sessions", ""))["sessions"])

	// Sequence positions restart too.
	require.NoError(t, s.SetScenario("refresh-then-success"))
	w := postToken(t, h, "mobypay")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "unauthorized", w.Header().Get("X-Mock-Step"))
}

func TestAdminRequestsFilters(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	sent := []struct{ provider, session, scenario string }{
		{"mobypay", "", "success"},
		{"acme", "a", "not-found"},
		{"mobypay", "a", "internal-error"},
		{"acme", "", "success"},
		{"mobypay", "b", "not-found"},
	}
	var ids []string
	for _, r := range sent {
		headers := []string{"X-Mock-Scenario: " + r.scenario}
		if r.session != "" {
			headers = append(headers, "X-Mock-Session: "+r.session)
		}
		ids = append(ids, postToken(t, h, r.provider, headers...).Header().Get("Request-Id"))
	}
	tests := []struct {
		query string
		want  []int // indexes into sent, oldest first
	}{
		{"", []int{0, 1, 2, 3, 4}},
		{"?provider=mobypay", []int{0, 2, 4}},
		{"?scenario=not-found", []int{1, 4}},
		{"?session=a", []int{1, 2}},
		{"?limit=2", []int{3, 4}},
		{"?limit=0", []int{0, 1, 2, 3, 4}},
		{"?limit=99", []int{0, 1, 2, 3, 4}},
		{"?provider=mobypay&limit=1", []int{4}},
		{"?provider=acme&scenario=success", []int{3}},
		{"?session=a&provider=acme", []int{1}},
		{"?provider=nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := decodeAs[map[string][]Request](t, adminOK(t, h, http.MethodGet, "/__admin/requests"+tt.query, ""))["requests"]
			var gotIDs, wantIDs []string
			for _, r := range got {
				gotIDs = append(gotIDs, r.RequestID)
			}
			for _, i := range tt.want {
				wantIDs = append(wantIDs, ids[i])
			}
			assert.Equal(t, wantIDs, gotIDs)
		})
	}
	for _, bad := range []string{"-1", "ten", "1.5"} {
		requireAPIError(t, perform(t, h, http.MethodGet, "/__admin/requests?limit="+bad, ""), http.StatusBadRequest, "bad-limit")
	}

	w := adminOK(t, h, http.MethodDelete, "/__admin/requests", "")
	assert.JSONEq(t, `{"requests":[]}`, w.Body.String())
	assert.Empty(t, s.Requests(RequestFilter{}))
	id := postToken(t, h, "mobypay").Header().Get("Request-Id")
	got := s.Requests(RequestFilter{})
	require.Len(t, got, 1, "the journal keeps recording after a DELETE")
	assert.Equal(t, id, got[0].RequestID)
}

// TestAdminBadInputChangesNothing sends every kind of bad switch body to every switch route and
// checks the answer and that the state is exactly what it was.
func TestAdminBadInputChangesNothing(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	h := s.Handler()
	adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"not-found","times":3,"ttl":"1m"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/mobypay", `{"scenario":"internal-error"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/s1/scenario", `{"scenario":"unauthorized"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/s1/providers/mobypay", `{"scenario":"success","times":1}`)
	before := adminState(t, h)
	require.NotNil(t, before.Global)

	routes := []string{"/__admin/scenario", "/__admin/providers/mobypay", "/__admin/providers/fresh", "/__admin/sessions/s1/scenario",
		"/__admin/sessions/s1/providers/mobypay", "/__admin/sessions/new/scenario", "/__admin/sessions/new/providers/p"}
	big := `{"scenario":"success","pad":"` + strings.Repeat("x", 64<<10) + `"}`
	bodies := []struct {
		name, body string
		status     int
		code       string
		detail     []string
	}{
		{"malformed JSON", `{"scenario":`, 400, "malformed-json", nil},
		{"empty body", ``, 400, "malformed-json", nil},
		{"not an object", `["success"]`, 400, "malformed-json", nil},
		{"wrong type", `{"scenario":"success","times":"3"}`, 400, "malformed-json", nil},
		{"unknown member", `{"scenario":"success","colour":"blue"}`, 400, "malformed-json", []string{"colour"}},
		{"two values", `{"scenario":"success"} {"scenario":"success"}`, 400, "malformed-json", nil},
		{"no scenario", `{"times":2}`, 400, "missing-scenario", nil},
		{"unknown scenario", `{"scenario":"no-such"}`, 400, "unknown-scenario", append([]string{`"no-such"`}, builtinOrder...)},
		{"path in scenario", `{"scenario":"../../etc/passwd"}`, 400, "unknown-scenario", []string{"known: success"}},
		{"too large", big, 413, "body-too-large", []string{"64 KiB"}},
		{"times 0", `{"scenario":"success","times":0}`, 400, "bad-times", nil},
		{"times negative", `{"scenario":"success","times":-2}`, 400, "bad-times", nil},
		{"ttl not a duration", `{"scenario":"success","ttl":"soon"}`, 400, "bad-ttl", []string{`"soon"`}},
		{"ttl zero", `{"scenario":"success","ttl":"0s"}`, 400, "bad-ttl", nil},
		{"ttl negative", `{"scenario":"success","ttl":"-5s"}`, 400, "bad-ttl", nil},
		{"ttl too long", `{"scenario":"success","ttl":"25h"}`, 400, "bad-ttl", nil},
	}
	for _, route := range routes {
		for _, b := range bodies {
			t.Run(route+"/"+b.name, func(t *testing.T) {
				w := perform(t, h, http.MethodPut, route, b.body, "Content-Type: application/json")
				doc := requireAPIError(t, w, b.status, b.code)
				for _, d := range b.detail {
					assert.Contains(t, doc.Errors[0].Detail, d)
				}
				assert.Equal(t, before, adminState(t, h), "a refused call changes nothing")
			})
		}
	}
	assert.Equal(t, []string{"s1"}, sessionKeys(s.Sessions()), "a refused call creates no session")
}

func sessionKeys(list []SessionInfo) []string {
	keys := make([]string, 0, len(list))
	for _, s := range list {
		keys = append(keys, s.Key)
	}
	return keys
}

// adminRoutes is every admin call but health, with a body a PUT accepts.
var adminRoutes = []struct{ method, path, body string }{
	{http.MethodGet, "/__admin/scenarios", ""},
	{http.MethodGet, "/__admin/state", ""},
	{http.MethodPut, "/__admin/scenario", `{"scenario":"success"}`},
	{http.MethodDelete, "/__admin/scenario", ""},
	{http.MethodPut, "/__admin/providers/mobypay", `{"scenario":"success"}`},
	{http.MethodDelete, "/__admin/providers/mobypay", ""},
	{http.MethodGet, "/__admin/sessions", ""},
	{http.MethodPut, "/__admin/sessions/k/scenario", `{"scenario":"success"}`},
	{http.MethodDelete, "/__admin/sessions/k/scenario", ""},
	{http.MethodPut, "/__admin/sessions/k/providers/mobypay", `{"scenario":"success"}`},
	{http.MethodDelete, "/__admin/sessions/k/providers/mobypay", ""},
	{http.MethodDelete, "/__admin/sessions/k", ""},
	{http.MethodPost, "/__admin/reset", ""},
	{http.MethodPost, "/__admin/reload", ""},
	{http.MethodGet, "/__admin/requests", ""},
	{http.MethodDelete, "/__admin/requests", ""},
}

func TestAdminToken(t *testing.T) {
	const token = "adm-7f3a9c1e5b"
	logs := &lockedBuffer{}
	s := newTestServer(t, Options{AdminToken: token, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	h := s.Handler()

	auths := []struct {
		name   string
		header []string
		want   int
	}{
		{"missing", nil, http.StatusUnauthorized},
		{"wrong", []string{"Authorization: Bearer nope"}, http.StatusUnauthorized},
		{"prefix of the token", []string{"Authorization: Bearer " + token[:len(token)-1]}, http.StatusUnauthorized},
		{"token with a suffix", []string{"Authorization: Bearer " + token + "x"}, http.StatusUnauthorized},
		{"wrong scheme", []string{"Authorization: Basic " + token}, http.StatusUnauthorized},
		{"bare token", []string{"Authorization: " + token}, http.StatusUnauthorized},
		{"right", []string{"Authorization: Bearer " + token}, http.StatusOK},
		{"right, scheme in lower case", []string{"Authorization: bearer " + token}, http.StatusOK},
	}
	for _, a := range auths {
		for _, r := range adminRoutes {
			t.Run(a.name+"/"+r.method+" "+r.path, func(t *testing.T) {
				w := perform(t, h, r.method, r.path, r.body, a.header...)
				if a.want == http.StatusUnauthorized {
					requireAPIError(t, w, http.StatusUnauthorized, "admin-unauthorized")
					assert.Contains(t, w.Header().Get("WWW-Authenticate"), "Bearer")
					return
				}
				assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
			})
		}
	}
	t.Run("health stays open", func(t *testing.T) {
		adminOK(t, h, http.MethodGet, "/__admin/health", "")
		adminOK(t, h, http.MethodGet, "/__admin/health", "", "Authorization: Bearer wrong")
	})
	t.Run("refusals logged once per peer", func(t *testing.T) {
		assert.Equal(t, 1, strings.Count(logs.String(), "admin call refused"), logs.String())
		req := httptest.NewRequest(http.MethodGet, "/__admin/state", nil)
		req.RemoteAddr = "198.51.100.7:4242"
		h.ServeHTTP(httptest.NewRecorder(), req)
		assert.Equal(t, 2, strings.Count(logs.String(), "admin call refused"))
		assert.Contains(t, logs.String(), "peer=198.51.100.7")
	})
	t.Run("the token is never stored or logged", func(t *testing.T) {
		// Clients that reuse the admin token on the endpoint must not see it land in the journal.
		for _, auth := range []string{"Bearer " + token, token, "Basic " + token} {
			perform(t, h, http.MethodPost, tokenURL("mobypay"), "", "Authorization: "+auth, "Proxy-Authorization: Bearer "+token, "Api-Key: "+token, "X-Mock-Session: sess")
		}
		journal := adminOK(t, h, http.MethodGet, "/__admin/requests", "", "Authorization: Bearer "+token).Body.String()
		assert.Contains(t, journal, "[redacted]")
		assert.NotContains(t, journal, token)
		assert.NotContains(t, journal, token[4:], "not even part of it")
		assert.NotContains(t, logs.String(), token[4:])
		assert.Contains(t, logs.String(), "msg=request", "the request lines were logged")
	})
}

func TestAdminCallsAreNotJournaled(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, r := range adminRoutes {
		perform(t, s.Handler(), r.method, r.path, r.body)
	}
	assert.Empty(t, s.Requests(RequestFilter{}))
}

// useFixture replaces every file in dir with those of testdata/reload/NAME.
func useFixture(t testing.TB, dir, name string) {
	t.Helper()
	require.NoError(t, copyFixture(dir, name))
}

// copyFixture is useFixture for goroutines, which must not stop the test themselves.
func copyFixture(dir, name string) error {
	old, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	src := filepath.Join("..", "testdata", "reload", name)
	files, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range files {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// reloadReport is the 200 answer of POST /__admin/reload.
type reloadReport struct {
	Scenarios int      `json:"scenarios"`
	Dropped   []string `json:"dropped"`
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, dir, "valid")
	s := newTestServer(t, Options{Dir: dir})
	h := s.Handler()
	builtins := len(builtinOrder)

	w := postToken(t, h, "kettle")
	assert.Equal(t, http.StatusTeapot, w.Code, "a user file's provider list applies")
	sc, by := scenarioOf(w)
	assert.Equal(t, "teapot", sc)
	assert.Equal(t, "provider", by)

	adminOK(t, h, http.MethodPut, "/__admin/scenario", `{"scenario":"teapot"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/mobypay", `{"scenario":"flaky"}`)
	adminOK(t, h, http.MethodPut, "/__admin/providers/p2", `{"scenario":"not-found"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/s1/scenario", `{"scenario":"teapot"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/s1/providers/acme", `{"scenario":"flaky"}`)

	t.Run("a valid change is picked up", func(t *testing.T) {
		useFixture(t, dir, "changed")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "flaky.yaml"), []byte("sequence: [internal-error, success]\n"), 0o600))
		rep := decodeAs[reloadReport](t, adminOK(t, h, http.MethodPost, "/__admin/reload", ""))
		assert.Equal(t, reloadReport{Scenarios: builtins + 2, Dropped: []string{}}, rep)
		w := postToken(t, h, "anyone")
		assert.Equal(t, http.StatusGone, w.Code, "the global switch still names teapot, which now answers 410")
		assert.Contains(t, w.Body.String(), `"code": "gone"`)
	})

	stateBefore := adminState(t, h)
	t.Run("a broken set is refused whole", func(t *testing.T) {
		useFixture(t, dir, "broken")
		w := perform(t, h, http.MethodPost, "/__admin/reload", "")
		doc := requireAPIError(t, w, http.StatusUnprocessableEntity, "invalid-scenarios")
		want := []struct {
			file  string
			lines []int // accepted lines
			text  string
		}{
			{"bad-key.yaml", []int{3}, `unknown key "colour"`},
			{"bad-status.yaml", []int{2}, "status 999"},
			// Line 2 once the loader's fix that locates sequence steps (branch tests-core) is merged;
			// until then the problem names only its file.
			{"bad-step.yaml", []int{2, 0}, `sequence step "no-such-scenario"`},
		}
		require.Len(t, doc.Errors, 1+len(want), "a summary, then one error per problem")
		assert.Contains(t, doc.Errors[0].Detail, "3 problem(s)")
		for i, p := range want {
			e := doc.Errors[i+1]
			path := filepath.Join(dir, p.file)
			line, _ := e.Meta["line"].(float64)
			assert.Contains(t, p.lines, int(line), e.Detail)
			prefix := path + ": "
			if line > 0 {
				prefix = path + ":" + strconv.Itoa(int(line)) + ": "
			}
			assert.True(t, strings.HasPrefix(e.Detail, prefix), "detail %q should start with %q", e.Detail, prefix)
			assert.Contains(t, e.Detail, p.text)
			assert.Equal(t, path, e.Meta["file"])
		}

		// The previous set keeps serving, switches and all.
		assert.Equal(t, http.StatusGone, postToken(t, h, "anyone").Code)
		w = postToken(t, h, "mobypay")
		assert.Equal(t, "flaky", w.Header().Get("X-Mock-Scenario"), "flaky is gone from disk but not from the served set")
		assert.Equal(t, stateBefore, adminState(t, h))
		assert.Len(t, s.Scenarios(), builtins+2)

		health := decodeAs[Health](t, adminOK(t, h, http.MethodGet, "/__admin/health", ""))
		lines := strings.Split(health.ReloadError, "\n")
		require.Len(t, lines, 3, health.ReloadError)
		assert.True(t, strings.HasPrefix(lines[0], filepath.Join(dir, "bad-key.yaml")+":3: "), lines[0])
		assert.True(t, strings.HasPrefix(lines[1], filepath.Join(dir, "bad-status.yaml")+":2: "), lines[1])
		assert.Equal(t, builtins+2, health.Scenarios)
	})

	t.Run("duplicate names are refused", func(t *testing.T) {
		useFixture(t, dir, "duplicate")
		doc := requireAPIError(t, perform(t, h, http.MethodPost, "/__admin/reload", ""), http.StatusUnprocessableEntity, "invalid-scenarios")
		require.Len(t, doc.Errors, 2)
		assert.Contains(t, doc.Errors[1].Detail, `duplicate scenario name "twice"`)
		assert.Contains(t, doc.Errors[1].Detail, "twice.json")
		assert.Contains(t, doc.Errors[1].Detail, "twice.yaml")
		assert.Contains(t, s.Health().ReloadError, "duplicate", "health shows the latest failure")
		assert.Equal(t, stateBefore, adminState(t, h))
	})

	t.Run("vanished switches are dropped, the rest survive", func(t *testing.T) {
		useFixture(t, dir, "changed") // teapot only: flaky is gone
		rep := decodeAs[reloadReport](t, adminOK(t, h, http.MethodPost, "/__admin/reload", ""))
		assert.Equal(t, builtins+1, rep.Scenarios)
		assert.Equal(t, []string{"provider mobypay: flaky", "session s1 provider acme: flaky"}, rep.Dropped)

		st := adminState(t, h)
		assert.Equal(t, &Switch{Scenario: "teapot"}, st.Global)
		assert.Equal(t, map[string]*Switch{"p2": {Scenario: "not-found"}}, st.Providers)
		assert.Equal(t, map[string]ScopeState{"s1": {Global: &Switch{Scenario: "teapot"}, Providers: map[string]*Switch{}}}, st.Sessions)

		health := decodeAs[map[string]any](t, adminOK(t, h, http.MethodGet, "/__admin/health", ""))
		assert.NotContains(t, health, "reload_error", "a good reload clears the error")
		assert.EqualValues(t, builtins+1, health["scenarios"])

		w := postToken(t, h, "mobypay")
		sc, by := scenarioOf(w)
		assert.Equal(t, "teapot", sc)
		assert.Equal(t, "global-switch", by)
		requireAPIError(t, postToken(t, h, "x", "X-Mock-Scenario: flaky"), http.StatusBadRequest, "unknown-scenario")
	})

	t.Run("a user file replaces a built-in of the same name", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "not-found.yaml"), []byte("status: 404\ncontract: off\nbody:\n  errors:\n    - code: mine\n"), 0o600))
		adminOK(t, h, http.MethodPost, "/__admin/reload", "")
		for _, info := range s.Scenarios() {
			if info.Name == "not-found" {
				assert.Equal(t, filepath.Join(dir, "not-found.yaml"), info.Source)
			}
		}
		assert.Contains(t, postToken(t, h, "p2").Body.String(), `"code": "mine"`)
	})

	t.Run("a vanished directory is a failed reload", func(t *testing.T) {
		require.NoError(t, os.RemoveAll(dir))
		doc := requireAPIError(t, perform(t, h, http.MethodPost, "/__admin/reload", ""), http.StatusUnprocessableEntity, "invalid-scenarios")
		require.Len(t, doc.Errors, 2)
		assert.Contains(t, doc.Errors[1].Detail, dir)
		assert.Equal(t, http.StatusGone, postToken(t, h, "kettle").Code, "still serving the last good set")
	})
}

func TestReloadRestartsSequences(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, dir, "valid")
	s := newTestServer(t, Options{Dir: dir})
	h := s.Handler()
	steps := func() []int {
		var codes []int
		for range 2 {
			codes = append(codes, postToken(t, h, "mobypay", "X-Mock-Scenario: flaky").Code)
		}
		return codes
	}
	assert.Equal(t, []int{500, 200}, steps())
	assert.Equal(t, []int{200, 200}, steps(), "repeat-last")
	_, err := s.Reload()
	require.NoError(t, err)
	assert.Equal(t, []int{500, 200}, steps(), "a reload may change a sequence, so it starts again")
}
