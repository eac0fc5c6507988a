package mock

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sequenceServer writes user sequence files into a fresh directory and returns a server over it.
func sequenceServer(t *testing.T, files map[string]string) *Server {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return newTestServer(t, Options{Dir: dir})
}

var userSequences = map[string]string{
	"three-cycle.yaml":  "sequence: [not-found, internal-error, success]\nthen: cycle\n",
	"three-fail.yaml":   "sequence: [not-found, internal-error, success]\nthen: fail\n",
	"three-repeat.yaml": "sequence: [not-found, internal-error, success]\nthen: repeat-last\n",
	"two-default.yaml":  "sequence: [unauthorized, success]\nproviders: [flow]\n",
}

func TestBuiltinSequences(t *testing.T) {
	tests := []struct {
		scenario string
		steps    []string
		codes    []int
	}{
		{"refresh-then-success", []string{"unauthorized", "success", "success"}, []int{401, 200, 200}},
		{"link-then-success", []string{"missing-linked-identity", "success", "success"}, []int{401, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			s := newTestServer(t, Options{})
			for i, step := range tt.steps {
				w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: "+tt.scenario)
				assert.Equal(t, tt.codes[i], w.Code, "step %d", i)
				assert.Equal(t, step, w.Header().Get("X-Mock-Step"), "step %d", i)
				sc, by := scenarioOf(w)
				assert.Equal(t, tt.scenario, sc, "X-Mock-Scenario names the sequence")
				assert.Equal(t, "header", by)
				if tt.codes[i] == 401 {
					assert.Contains(t, w.Body.String(), `"code": "`+step+`"`)
				} else {
					assert.Contains(t, w.Body.String(), `"access_token"`)
				}
			}
			var steps []string
			for _, r := range s.Requests(RequestFilter{}) {
				assert.Equal(t, tt.scenario, r.Scenario)
				steps = append(steps, r.Step)
			}
			assert.Equal(t, tt.steps, steps, "the journal records each step")
			assert.Len(t, s.Requests(RequestFilter{Scenario: tt.steps[0]}), 1, "?scenario= matches a step too")
		})
	}
}

func TestSequenceThen(t *testing.T) {
	s := sequenceServer(t, userSequences)
	tests := []struct {
		scenario string
		codes    []int
	}{
		{"three-cycle", []int{404, 500, 200, 404, 500, 200, 404}},
		{"three-repeat", []int{404, 500, 200, 200, 200}},
		{"three-fail", []int{404, 500, 200, 409, 409}},
		{"two-default", []int{401, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			var got []int
			for range tt.codes {
				w := postToken(t, s.Handler(), "p-"+tt.scenario, "X-Mock-Scenario: "+tt.scenario)
				got = append(got, w.Code)
				if w.Code == http.StatusConflict {
					doc := requireAPIError(t, w, http.StatusConflict, "sequence-exhausted")
					assert.Contains(t, doc.Errors[0].Detail, tt.scenario)
					assert.Empty(t, w.Header().Get("X-Mock-Step"))
					assert.Equal(t, tt.scenario, w.Header().Get("X-Mock-Scenario"))
				}
			}
			assert.Equal(t, tt.codes, got)
		})
	}
	t.Run("exhaustion is journaled", func(t *testing.T) {
		got := s.Requests(RequestFilter{Provider: "p-three-fail"})
		require.Len(t, got, 5)
		assert.Equal(t, http.StatusConflict, got[4].Status)
		assert.Equal(t, "three-fail", got[4].Scenario)
	})
}

func TestSequencePositions(t *testing.T) {
	s := newTestServer(t, Options{})
	h := s.Handler()
	step := func(provider string, headers ...string) string {
		return postToken(t, h, provider, append([]string{"X-Mock-Scenario: refresh-then-success"}, headers...)...).Header().Get("X-Mock-Step")
	}
	assert.Equal(t, "unauthorized", step("p1"))
	assert.Equal(t, "unauthorized", step("p2"), "per provider")
	assert.Equal(t, "unauthorized", step("p1", "X-Mock-Session: A"), "per session")
	assert.Equal(t, "unauthorized", step("p1", "Cookie: fedtoken_mock_session=B"))
	assert.Equal(t, "success", step("p1"))
	assert.Equal(t, "success", step("p1", "X-Mock-Session: A"))
	assert.Equal(t, "unauthorized", step("p2", "X-Mock-Session: A"))
	assert.Equal(t, "success", step("p2"))

	// The same sequence reached by a switch or a provider list shares the position of its provider.
	require.NoError(t, s.SetProviderScenario("p3", "refresh-then-success"))
	w := postToken(t, h, "p3")
	assert.Equal(t, "unauthorized", w.Header().Get("X-Mock-Step"))
	_, by := scenarioOf(w)
	assert.Equal(t, "provider-switch", by)
	assert.Equal(t, "success", step("p3"))

	// Reset restarts every position, session or not.
	adminOK(t, h, http.MethodPost, "/__admin/reset", "")
	assert.Equal(t, "unauthorized", step("p1"))
	assert.Equal(t, "unauthorized", step("p1", "X-Mock-Session: A"))
}

func TestSequenceByProviderList(t *testing.T) {
	s := sequenceServer(t, userSequences)
	var codes []int
	for range 3 {
		w := postToken(t, s.Handler(), "flow")
		_, by := scenarioOf(w)
		assert.Equal(t, "provider", by)
		codes = append(codes, w.Code)
	}
	assert.Equal(t, []int{401, 200, 200}, codes)
}

// TestSequenceUnderConcurrency: M requests at once to one sequence (one provider, one session)
// get each step exactly as often as the sequence and its then allow.
func TestSequenceUnderConcurrency(t *testing.T) {
	s := sequenceServer(t, userSequences)
	const m = 60
	tests := []struct {
		scenario string
		headers  []string
		want     map[int]int
	}{
		{"three-fail", nil, map[int]int{404: 1, 500: 1, 200: 1, 409: m - 3}},
		{"three-cycle", nil, map[int]int{404: m / 3, 500: m / 3, 200: m / 3}},
		{"three-repeat", nil, map[int]int{404: 1, 500: 1, 200: m - 2}},
		{"three-fail", []string{"X-Mock-Session: S"}, map[int]int{404: 1, 500: 1, 200: 1, 409: m - 3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.scenario, tt.headers), func(t *testing.T) {
			codes := make(chan int, m)
			var wg sync.WaitGroup
			for range m {
				wg.Go(func() {
					codes <- postToken(t, s.Handler(), "same", append([]string{"X-Mock-Scenario: " + tt.scenario}, tt.headers...)...).Code
				})
			}
			wg.Wait()
			close(codes)
			got := map[int]int{}
			for c := range codes {
				got[c]++
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
