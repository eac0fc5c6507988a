package mock

import (
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalBound(t *testing.T) {
	s := newTestServer(t, Options{JournalSize: 5})
	var ids []string
	for range 12 {
		ids = append(ids, postToken(t, s.Handler(), "mobypay").Header().Get("Request-Id"))
	}
	got := decodeAs[map[string][]Request](t, adminOK(t, s.Handler(), http.MethodGet, "/__admin/requests", ""))["requests"]
	var gotIDs []string
	for _, r := range got {
		gotIDs = append(gotIDs, r.RequestID)
	}
	assert.Equal(t, ids[7:], gotIDs, "only the newest 5, oldest first")
	assert.Len(t, s.Requests(RequestFilter{Limit: 2}), 2)
}

func TestJournalDisabled(t *testing.T) {
	s := newTestServer(t, Options{JournalSize: -1})
	for range 3 {
		assert.Equal(t, http.StatusOK, postToken(t, s.Handler(), "mobypay").Code)
	}
	assert.Empty(t, s.Requests(RequestFilter{}))
	assert.JSONEq(t, `{"requests":[]}`, adminOK(t, s.Handler(), http.MethodGet, "/__admin/requests", "").Body.String())
}

func TestJournalEntryFields(t *testing.T) {
	clock := newManualClock()
	s := newTestServer(t, Options{Now: clock.Now})
	h := s.Handler()
	w := postToken(t, h, "mobypay", "X-Mock-Session: s-1", "Accept: application/json", "uber-trace-id: abc:def:0:1", "X-Mock-Scenario: refresh-then-success")
	require.Equal(t, http.StatusUnauthorized, w.Code)

	raw := decodeAs[map[string][]map[string]any](t, adminOK(t, h, http.MethodGet, "/__admin/requests", ""))["requests"]
	require.Len(t, raw, 1)
	e := raw[0]
	assert.Equal(t, map[string]any{
		"time":        "2030-01-02T03:04:05Z",
		"method":      "POST",
		"path":        "/user/2021-2/federated-identities/mobypay/token",
		"provider":    "mobypay",
		"session":     "s-1",
		"scenario":    "refresh-then-success",
		"step":        "unauthorized",
		"selected_by": "header",
		"status":      401.0,
		"duration_ms": 0.0, // the manual clock did not move
		"request_id":  w.Header().Get("Request-Id"),
		"headers": map[string]any{
			"Authorization":   []any{"Bearer [redacted]"},
			"Accept":          []any{"application/json"},
			"Uber-Trace-Id":   []any{"abc:def:0:1"},
			"X-Mock-Session":  []any{"s-1"},
			"X-Mock-Scenario": []any{"refresh-then-success"},
		},
	}, e)
	assert.Contains(t, adminOK(t, h, http.MethodGet, "/__admin/requests", "").Body.String(), `"status": 401,`, "status is a JSON integer")

	// Without a prefix, without a session, on the real clock.
	s2 := newTestServer(t, Options{})
	perform(t, s2.Handler(), http.MethodPost, "/federated-identities/acme/token", "", "Authorization: Bearer x")
	got := s2.Requests(RequestFilter{})
	require.Len(t, got, 1)
	assert.Equal(t, "/federated-identities/acme/token", got[0].Path)
	assert.Equal(t, "acme", got[0].Provider)
	assert.Empty(t, got[0].Session)
	assert.Equal(t, "default", got[0].SelectedBy)
	assert.WithinDuration(t, time.Now(), got[0].Time, time.Minute)
	assert.Equal(t, time.UTC, got[0].Time.Location())
}

func TestJournalDurationCoversDelay(t *testing.T) {
	files := fstest.MapFS{"lag.yaml": {Data: []byte("status: 200\ndelay: 30ms\nbody:\n  access_token: a\n  token_type: Bearer\n  refresh_token: r\n  expires_in: 60\n  scope: openid\n")}}
	s := newTestServer(t, Options{Files: files})
	postToken(t, s.Handler(), "p", "X-Mock-Scenario: lag")
	got := s.Requests(RequestFilter{Scenario: "lag"})
	require.Len(t, got, 1)
	assert.GreaterOrEqual(t, got[0].DurationMS, 30.0)
}

func TestJournalRecordsRefusedSelectors(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	postToken(t, h, "p", "X-Mock-Scenario: no-such")
	perform(t, h, http.MethodPost, tokenURL("p"), "") // no Authorization
	got := s.Requests(RequestFilter{})
	require.Len(t, got, 2)
	assert.Equal(t, http.StatusBadRequest, got[0].Status)
	assert.Empty(t, got[0].Scenario)
	assert.Equal(t, http.StatusUnauthorized, got[1].Status)
	assert.Equal(t, "unauthorized", got[1].Scenario)
	assert.Equal(t, "auth", got[1].SelectedBy)
}

func TestJournalRedaction(t *testing.T) {
	tests := []struct {
		header string
		values []string
		want   []string
	}{
		{"Authorization", []string{"Bearer eyJhbGciOi.secret"}, []string{"Bearer [redacted]"}},
		{"Authorization", []string{"Basic dXNlcjpwYXNz"}, []string{"Basic [redacted]"}},
		{"Authorization", []string{"bare-token-no-scheme"}, []string{"[redacted]"}},
		{"Authorization", []string{"averyveryveryverylongscheme secret"}, []string{"[redacted]"}},
		{"Authorization", []string{"Bearer one", "Bearer two"}, []string{"Bearer [redacted]", "Bearer [redacted]"}},
		{"Proxy-Authorization", []string{"Bearer proxy-secret"}, []string{"Bearer [redacted]"}},
		{"Api-Key", []string{"key-secret"}, []string{"[redacted]"}},
		{"X-Api-Key", []string{"Bearer key-secret"}, []string{"[redacted]"}},
		{"Cookie", []string{"fedtoken_mock_session=k; sid=cookie-secret"}, []string{"[redacted]"}},
		{"Accept", []string{"application/json"}, []string{"application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.header+" "+tt.values[0], func(t *testing.T) {
			s := newTestServer(t, Options{AuthOff: true})
			headers := make([]string, 0, len(tt.values))
			for _, v := range tt.values {
				headers = append(headers, tt.header+": "+v)
			}
			perform(t, s.Handler(), http.MethodPost, tokenURL("mobypay"), "", headers...)
			got := s.Requests(RequestFilter{})
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0].Headers[tt.header])
			body := adminOK(t, s.Handler(), http.MethodGet, "/__admin/requests", "").Body.String()
			for _, v := range tt.values {
				if tt.want[0] == v {
					continue
				}
				assert.NotContains(t, body, "secret", "value %q leaked", v)
			}
		})
	}
}

// TestJournalEntriesAreCopies checks that a caller mutating what Requests returned cannot corrupt the journal.
func TestJournalEntriesAreCopies(t *testing.T) {
	s := newTestServer(t, Options{})
	postToken(t, s.Handler(), "mobypay", "Accept: application/json")
	got := s.Requests(RequestFilter{})
	require.Len(t, got, 1)
	got[0].Provider = "changed"
	got[0].Headers.Set("Accept", "text/changed")
	again := s.Requests(RequestFilter{})[0]
	assert.Equal(t, "mobypay", again.Provider)
	assert.Equal(t, "application/json", again.Headers.Get("Accept"))
}
