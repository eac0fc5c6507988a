package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionKeySources(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"header", []string{"X-Mock-Session: from-header"}, "from-header"},
		{"cookie", []string{"Cookie: other=1; fedtoken_mock_session=from-cookie"}, "from-cookie"},
		{"header beats cookie", []string{"X-Mock-Session: h", "Cookie: fedtoken_mock_session=c"}, "h"},
		{"none", nil, ""},
		{"long key cut at 200", []string{"X-Mock-Session: " + strings.Repeat("k", 300)}, strings.Repeat("k", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{})
			if tt.want != "" {
				require.NoError(t, s.SetSessionScenario(tt.want, "not-found"))
			}
			w := postToken(t, s.Handler(), "mobypay", tt.headers...)
			got := s.Requests(RequestFilter{})
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0].Session)
			if tt.want != "" {
				assert.Equal(t, http.StatusNotFound, w.Code)
				_, by := scenarioOf(w)
				assert.Equal(t, "session-switch", by)
			}
		})
	}
}

// TestSessionIsolationUnderLoad: session A is forced to fail while B and session-less requests,
// sent at the same time, keep succeeding.
func TestSessionIsolationUnderLoad(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	adminOK(t, h, http.MethodPut, "/__admin/sessions/A/scenario", `{"scenario":"internal-error"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/B/providers/acme", `{"scenario":"not-found"}`)

	type want struct{ scenario, selectedBy string }
	clients := []struct {
		provider string
		headers  []string
		want     want
	}{
		{"mobypay", []string{"X-Mock-Session: A"}, want{"internal-error", "session-switch"}},
		{"acme", []string{"Cookie: fedtoken_mock_session=A"}, want{"internal-error", "session-switch"}},
		{"mobypay", []string{"X-Mock-Session: B"}, want{"success", "default"}},
		{"acme", []string{"X-Mock-Session: B"}, want{"not-found", "session-switch"}},
		{"mobypay", nil, want{"success", "default"}},
		{"acme", nil, want{"success", "default"}},
	}
	const perClient = 25
	var mu sync.Mutex
	wrong := map[string]int{}
	var wg sync.WaitGroup
	for _, c := range clients {
		for range 2 {
			wg.Go(func() {
				for range perClient {
					w := postToken(t, h, c.provider, c.headers...)
					sc, by := scenarioOf(w)
					if (want{sc, by}) != c.want {
						mu.Lock()
						wrong[c.provider+" "+strings.Join(c.headers, ",")+" got "+sc+"/"+by]++
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	assert.Empty(t, wrong)
	assert.Len(t, s.Requests(RequestFilter{Session: "A"}), 2*2*perClient)
	assert.Len(t, s.Requests(RequestFilter{Session: "B"}), 2*2*perClient)
}

func TestDropSession(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	for _, k := range []string{"A", "B"} {
		adminOK(t, h, http.MethodPut, "/__admin/sessions/"+k+"/providers/other", `{"scenario":"not-found"}`)
		for range 2 {
			postToken(t, h, "mobypay", "X-Mock-Session: "+k, "X-Mock-Scenario: refresh-then-success")
		}
	}
	postToken(t, h, "mobypay")
	require.Len(t, s.Requests(RequestFilter{}), 5)

	st := decodeAs[State](t, adminOK(t, h, http.MethodDelete, "/__admin/sessions/A", ""))
	assert.NotContains(t, st.Sessions, "A")
	assert.Contains(t, st.Sessions, "B")
	assert.Empty(t, s.Requests(RequestFilter{Session: "A"}), "A's journal entries are gone")
	assert.Len(t, s.Requests(RequestFilter{Session: "B"}), 2)
	assert.Len(t, s.Requests(RequestFilter{}), 3)
	assert.Equal(t, []string{"B"}, sessionKeys(s.Sessions()))

	// A's sequence starts over; B's carries on.
	assert.Equal(t, "unauthorized", postToken(t, h, "mobypay", "X-Mock-Session: A", "X-Mock-Scenario: refresh-then-success").Header().Get("X-Mock-Step"))
	assert.Equal(t, "success", postToken(t, h, "mobypay", "X-Mock-Session: B", "X-Mock-Scenario: refresh-then-success").Header().Get("X-Mock-Step"))
	// A's switch is gone, B's is not.
	assert.Equal(t, http.StatusOK, postToken(t, h, "other", "X-Mock-Session: A").Code)
	assert.Equal(t, http.StatusNotFound, postToken(t, h, "other", "X-Mock-Session: B").Code)

	adminOK(t, h, http.MethodDelete, "/__admin/sessions/never-seen", "")
}

func TestSessionSwitchCalls(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	adminOK(t, h, http.MethodPut, "/__admin/sessions/k/scenario", `{"scenario":"not-found"}`)
	adminOK(t, h, http.MethodPut, "/__admin/sessions/k/providers/acme", `{"scenario":"internal-error"}`)
	st := adminState(t, h)
	assert.Equal(t, ScopeState{Global: &Switch{Scenario: "not-found"}, Providers: map[string]*Switch{"acme": {Scenario: "internal-error"}}}, st.Sessions["k"])
	assert.Nil(t, st.Global, "session switches stay in their session")

	assert.Equal(t, http.StatusInternalServerError, postToken(t, h, "acme", "X-Mock-Session: k").Code, "a session's provider switch beats its global one")
	assert.Equal(t, http.StatusNotFound, postToken(t, h, "mobypay", "X-Mock-Session: k").Code)

	st = decodeAs[State](t, adminOK(t, h, http.MethodDelete, "/__admin/sessions/k/providers/acme", ""))
	assert.Empty(t, st.Sessions["k"].Providers)
	assert.Equal(t, http.StatusNotFound, postToken(t, h, "acme", "X-Mock-Session: k").Code)

	st = decodeAs[State](t, adminOK(t, h, http.MethodDelete, "/__admin/sessions/k/scenario", ""))
	assert.NotContains(t, st.Sessions, "k", "a session without switches is not shown in the state")
	assert.Equal(t, http.StatusOK, postToken(t, h, "acme", "X-Mock-Session: k").Code)

	// Session switches beat global ones; a session without its own switch sees the global ones.
	require.NoError(t, s.SetScenario("unauthorized"))
	require.NoError(t, s.SetSessionProviderScenario("k", "acme", "not-found"))
	assert.Equal(t, http.StatusNotFound, postToken(t, h, "acme", "X-Mock-Session: k").Code)
	w := postToken(t, h, "mobypay", "X-Mock-Session: k")
	_, by := scenarioOf(w)
	assert.Equal(t, "global-switch", by)
}

func TestSessionsList(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	h := s.Handler()
	assert.JSONEq(t, `{"sessions":[]}`, adminOK(t, h, http.MethodGet, "/__admin/sessions", "").Body.String())

	postToken(t, h, "p", "X-Mock-Session: zed")
	clock.Advance(time.Second)
	postToken(t, h, "p", "X-Mock-Session: alpha")
	postToken(t, h, "p", "X-Mock-Session: alpha")
	adminOK(t, h, http.MethodPut, "/__admin/sessions/alpha/scenario", `{"scenario":"not-found","times":4}`)

	var doc struct {
		Sessions []map[string]any `json:"sessions"`
	}
	require.NoError(t, json.Unmarshal(adminOK(t, h, http.MethodGet, "/__admin/sessions", "").Body.Bytes(), &doc))
	require.Len(t, doc.Sessions, 2)
	assert.Equal(t, map[string]any{
		"key": "alpha", "last_seen": "2030-01-02T03:04:06Z", "requests": 2.0,
		"global": map[string]any{"scenario": "not-found", "times_left": 4.0}, "providers": map[string]any{},
	}, doc.Sessions[0], "sorted by key")
	assert.Equal(t, "zed", doc.Sessions[1]["key"])
	assert.Equal(t, "2030-01-02T03:04:05Z", doc.Sessions[1]["last_seen"])
	assert.Equal(t, 1.0, doc.Sessions[1]["requests"])
}

func TestMaxSessionsEvictsTheIdlest(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now, MaxSessions: 3})
	h := s.Handler()
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, s.SetSessionScenario(k, "not-found"))
		clock.Advance(time.Second)
	}
	postToken(t, h, "p", "X-Mock-Session: a") // a is now the most recent
	clock.Advance(time.Second)
	postToken(t, h, "p", "X-Mock-Session: d")
	assert.Equal(t, []string{"a", "c", "d"}, sessionKeys(s.Sessions()), "b was the idlest")
	assert.NotContains(t, s.State().Sessions, "b")
	assert.Equal(t, http.StatusOK, postToken(t, h, "p", "X-Mock-Session: b").Code, "b starts afresh, without its switch")
	assert.Len(t, s.Sessions(), 3, "never more than MaxSessions")
}

func TestSessionTTL(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now, SessionTTL: 10 * time.Minute})
	h := s.Handler()
	require.NoError(t, s.SetSessionScenario("idle", "not-found"))
	require.NoError(t, s.SetSessionScenario("busy", "not-found"))
	postToken(t, h, "p", "X-Mock-Session: idle", "X-Mock-Scenario: refresh-then-success")

	clock.Advance(5 * time.Minute)
	assert.Equal(t, http.StatusNotFound, postToken(t, h, "p", "X-Mock-Session: busy").Code, "touching busy keeps it alive")
	clock.Advance(5 * time.Minute)
	assert.Equal(t, []string{"busy", "idle"}, sessionKeys(s.Sessions()), "exactly the TTL idle is still alive")

	clock.Advance(time.Nanosecond)
	assert.NotContains(t, adminState(t, h).Sessions, "idle", "an expired session's switches are not in force")
	assert.Contains(t, adminState(t, h).Sessions, "busy")
	assert.Equal(t, []string{"busy"}, sessionKeys(s.Sessions()))
	w := postToken(t, h, "p", "X-Mock-Session: idle", "X-Mock-Scenario: refresh-then-success")
	assert.Equal(t, "unauthorized", w.Header().Get("X-Mock-Step"), "its sequence position went with it")
	assert.Equal(t, http.StatusOK, postToken(t, h, "p", "X-Mock-Session: idle").Code, "and its switch")
	for _, si := range s.Sessions() {
		if si.Key == "idle" {
			assert.EqualValues(t, 2, si.Requests, "counted afresh")
		}
	}
}

// TestSeededSessionsAreStable: with a seed, what a session gets depends only on its own
// requests, however other sessions' requests interleave with them.
func TestSeededSessionsAreStable(t *testing.T) {
	type call struct{ session, provider string }
	const perSession = 4
	token := func(t *testing.T, h http.Handler, c call) string {
		headers := []string{}
		if c.session != "" {
			headers = append(headers, "X-Mock-Session: "+c.session)
		}
		w := postToken(t, h, c.provider, headers...)
		require.Equal(t, http.StatusOK, w.Code)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tok))
		return tok.AccessToken
	}
	// run sends each session's calls in order; order says how sessions interleave.
	run := func(t *testing.T, order []call) map[call][]string {
		s := newTestServer(t, Options{Seed: 99})
		got := map[call][]string{}
		for _, c := range order {
			got[c] = append(got[c], token(t, s.Handler(), c))
		}
		return got
	}
	a, b, anon := call{"A", "mobypay"}, call{"B", "mobypay"}, call{"", "mobypay"}
	var sequential, interleaved []call
	for range perSession {
		sequential = append(sequential, a)
	}
	for range perSession {
		sequential = append(sequential, b)
	}
	for range perSession {
		interleaved = append(interleaved, b, anon, a, anon)
	}
	first, second := run(t, sequential), run(t, interleaved)
	assert.Equal(t, first[a], second[a])
	assert.Equal(t, first[b], second[b])
	assert.NotEqual(t, first[a], first[b], "sessions get values of their own")
	assert.Len(t, first[a], perSession)

	t.Run("concurrent sessions", func(t *testing.T) {
		s := newTestServer(t, Options{Seed: 99})
		got := map[call][]string{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range []call{a, b, anon, anon} {
			wg.Go(func() {
				for range perSession {
					tok := token(t, s.Handler(), c)
					mu.Lock()
					got[c] = append(got[c], tok)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, first[a], got[a])
		assert.Equal(t, first[b], got[b])
	})
	t.Run("another seed, other values", func(t *testing.T) {
		s := newTestServer(t, Options{Seed: 100})
		assert.NotEqual(t, first[a][0], token(t, s.Handler(), a))
	})
}
