package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fedtoken/fedtoken-mock/mock/contract"
	"github.com/fedtoken/fedtoken-mock/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinsAgainstTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	v, err := contract.New(scenarios.OpenAPI)
	require.NoError(t, err)
	require.Equal(t, []int{200, 401, 404, 500}, v.Statuses(), "the reference page's statuses")

	s := newTestServer(t, Options{})
	// What each built-in answers on the wire, and whether it must conform.
	tests := []struct {
		scenario string
		status   int  // of the first response; 0 for faults that send none
		contract bool // ScenarioInfo.Contract
	}{
		{"success", 200, true},
		{"missing-linked-identity", 401, true},
		{"unauthorized", 401, true},
		{"not-found", 404, true},
		{"internal-error", 500, true},
		// A sequence conforms when each of its steps does; it is checked through them.
		{"refresh-then-success", 401, true},
		{"link-then-success", 401, true},
		{"slow", 200, true},
		{"timeout", 0, false},
		{"connection-reset", 0, false},
		{"malformed-body", 200, false},
		{"service-unavailable", 503, false},
	}
	infos := s.Scenarios()
	require.Len(t, infos, len(tests), "a new built-in needs a row here")
	for i, tt := range tests {
		require.Equal(t, tt.scenario, infos[i].Name, "built-ins are listed in their documented order")
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			info := scenarioInfo(t, s, tt.scenario)
			assert.Equal(t, tt.contract, info.Contract)
			assert.Equal(t, "builtin", info.Source)
			if tt.status == 0 {
				assert.NotEmpty(t, info.Fault)
				return
			}
			// A sequence is checked through both of its steps, in one session.
			steps := 1
			if info.Sequence != nil {
				steps = len(info.Sequence)
			}
			for step := range steps {
				w := postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: "+tt.scenario, "X-Mock-Session: contract-"+tt.scenario)
				if step == 0 {
					require.Equal(t, tt.status, w.Code)
				}
				err := v.Check(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
				switch {
				case tt.contract:
					assert.NoError(t, err, "step %d: %s", step, w.Body.String())
				case v.Defines(w.Code):
					assert.Error(t, err, "an off-contract scenario with a documented status must break the contract")
				default:
					assert.ErrorContains(t, err, "not defined by the OpenAPI document")
				}
			}
		})
	}
}

func TestMockOwnErrorsAreOffContract(t *testing.T) {
	t.Parallel()
	v, err := contract.New(scenarios.OpenAPI)
	require.NoError(t, err)
	s := newTestServer(t, Options{})
	for _, w := range []*httptest.ResponseRecorder{
		postToken(t, s.Handler(), "mobypay", "X-Mock-Scenario: nope"),
		perform(t, s.Handler(), http.MethodGet, tokenURL("mobypay"), ""),
	} {
		assert.False(t, v.Defines(w.Code), "status %d would be mistaken for the real API's", w.Code)
		assert.NotEmpty(t, w.Header().Get("X-Mock-Error"))
	}
}
