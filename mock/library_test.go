package mock

import (
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandlerSplit(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name           string
		h              http.Handler
		endpoint, admn bool
	}{
		{"Handler", s.Handler(), true, true},
		{"EndpointHandler", s.EndpointHandler(), true, false},
		{"AdminHandler", s.AdminHandler(), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := postToken(t, tt.h, "mobypay")
			if tt.endpoint {
				assert.Equal(t, http.StatusOK, w.Code)
			} else {
				requireAPIError(t, w, http.StatusNotFound, "route-not-found")
			}
			w = perform(t, tt.h, http.MethodGet, "/__admin/state", "")
			if tt.admn {
				assert.Equal(t, http.StatusOK, w.Code)
			} else {
				requireAPIError(t, w, http.StatusNotFound, "route-not-found")
			}
		})
	}
	// All three share one state: a switch set through the admin half shows on the endpoint half.
	adminOK(t, s.AdminHandler(), http.MethodPut, "/__admin/scenario", `{"scenario":"not-found"}`)
	assert.Equal(t, http.StatusNotFound, postToken(t, s.EndpointHandler(), "mobypay").Code)
}

func TestSwitchMethods(t *testing.T) {
	s := newTestServer(t, Options{})
	require.NoError(t, s.SetScenario("not-found"))
	require.NoError(t, s.SetProviderScenario("acme", "internal-error"))
	require.NoError(t, s.SetSessionScenario("k", "unauthorized"))
	require.NoError(t, s.SetSessionProviderScenario("k", "acme", "success"))
	assert.Equal(t, State{
		Global:    &Switch{Scenario: "not-found"},
		Providers: map[string]*Switch{"acme": {Scenario: "internal-error"}},
		Sessions:  map[string]ScopeState{"k": {Global: &Switch{Scenario: "unauthorized"}, Providers: map[string]*Switch{"acme": {Scenario: "success"}}}},
	}, s.State())
	assert.Equal(t, s.State(), adminState(t, s.Handler()), "methods and HTTP see the same state")

	s.ClearSessionProviderScenario("k", "acme")
	s.ClearSessionScenario("k")
	s.ClearProviderScenario("acme")
	s.ClearScenario()
	assert.Equal(t, State{Providers: map[string]*Switch{}, Sessions: map[string]ScopeState{}}, s.State())

	for _, set := range []func() error{
		func() error { return s.SetScenario("nope") },
		func() error { return s.SetProviderScenario("acme", "nope") },
		func() error { return s.SetSessionScenario("k", "nope") },
		func() error { return s.SetSessionProviderScenario("k", "acme", "nope") },
	} {
		err := set()
		var us *UnknownScenarioError
		require.ErrorAs(t, err, &us)
		assert.Equal(t, "nope", us.Name)
		assert.Equal(t, builtinOrder, us.Known)
		assert.Contains(t, err.Error(), "known: success, missing-linked-identity")
	}
	assert.Equal(t, State{Providers: map[string]*Switch{}, Sessions: map[string]ScopeState{}}, s.State())
}

func TestNewReportsEveryProblem(t *testing.T) {
	files := fstest.MapFS{
		"a.yaml":    {Data: []byte("status: 418\nbogus: 1\n")},
		"b.json":    {Data: []byte(`{"status": "two hundred"}`)},
		"c.yaml":    {Data: []byte("sequence: [success]\nthen: sometimes\n")},
		"fine.yaml": {Data: []byte("status: 204\ncontract: off\n")},
	}
	_, err := New(Options{Files: files})
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Problems, 3)
	want := []Problem{
		{File: "files/a.yaml", Line: 2},
		{File: "files/b.json", Line: 1},
		{File: "files/c.yaml", Line: 2},
	}
	for i, p := range le.Problems {
		assert.Equal(t, want[i].File, p.File)
		assert.Equal(t, want[i].Line, p.Line, p.String())
		assert.NotEmpty(t, p.Message)
		assert.Equal(t, p.File+":"+strconv.Itoa(p.Line)+": "+p.Message, p.String())
	}
	assert.Equal(t, le.Problems[0].String()+"\n"+le.Problems[1].String()+"\n"+le.Problems[2].String(), err.Error())
}

func TestValidateDir(t *testing.T) {
	fixtures := filepath.Join("..", "testdata", "reload")
	assert.NoError(t, ValidateDir(filepath.Join(fixtures, "valid")))
	assert.NoError(t, ValidateDir(filepath.Join(fixtures, "changed")))

	err := ValidateDir(filepath.Join(fixtures, "broken"))
	var le *LoadError
	require.ErrorAs(t, err, &le)
	assert.Len(t, le.Problems, 3)

	require.ErrorAs(t, ValidateDir(filepath.Join(fixtures, "duplicate")), &le)
	assert.Len(t, le.Problems, 1)

	require.ErrorAs(t, ValidateDir(filepath.Join(t.TempDir(), "missing")), &le)
	assert.Contains(t, le.Error(), "missing")
}

func TestBuiltinOption(t *testing.T) {
	minimal := fstest.MapFS{
		"success.yaml":      {Data: []byte("status: 200\ncontract: off\nbody:\n  mine: true\n")},
		"unauthorized.yaml": {Data: []byte("status: 401\ncontract: off\nbody:\n  errors:\n    - code: nope\n")},
	}
	s := newTestServer(t, Options{Builtin: minimal})
	names := []string{}
	for _, sc := range s.Scenarios() {
		names = append(names, sc.Name)
		assert.Equal(t, "builtin", sc.Source)
	}
	assert.Equal(t, []string{"success", "unauthorized"}, names)
	assert.JSONEq(t, `{"mine":true}`, postToken(t, s.Handler(), "p").Body.String())

	_, err := New(Options{Builtin: fstest.MapFS{"unauthorized.yaml": minimal["unauthorized.yaml"]}})
	var le *LoadError
	require.ErrorAs(t, err, &le)
	assert.Contains(t, le.Error(), `no "success" scenario`)
}

func TestReloadMethod(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, dir, "valid")
	s := newTestServer(t, Options{Dir: dir})
	rep, err := s.Reload()
	require.NoError(t, err)
	assert.Equal(t, ReloadReport{Scenarios: len(builtinOrder) + 2, Dropped: []string{}}, rep)

	useFixture(t, dir, "broken")
	_, err = s.Reload()
	var le *LoadError
	require.ErrorAs(t, err, &le)
	assert.Len(t, le.Problems, 3)
	h := s.Health()
	assert.Equal(t, le.Error(), h.ReloadError)
	assert.Equal(t, le.Problems, h.ReloadProblems)

	useFixture(t, dir, "valid")
	_, err = s.Reload()
	require.NoError(t, err)
	assert.Empty(t, s.Health().ReloadError)
	assert.Empty(t, s.Health().ReloadProblems)
}

func TestLibraryLeavesGinGlobalsAlone(t *testing.T) {
	mode, out, errOut := gin.Mode(), gin.DefaultWriter, gin.DefaultErrorWriter
	s := newTestServer(t, Options{})
	postToken(t, s.Handler(), "mobypay")
	perform(t, s.Handler(), http.MethodGet, "/__admin/state", "")
	assert.Equal(t, mode, gin.Mode())
	assert.Same(t, out, gin.DefaultWriter)
	assert.Same(t, errOut, gin.DefaultErrorWriter)
}

// TestServersShareNothing builds servers side by side, as parallel tests do, and checks that
// switches, sequences and journals never cross between them.
func TestServersShareNothing(t *testing.T) {
	const n = 4
	servers := make([]*Server, n)
	for i := range servers {
		servers[i] = newTestServer(t, Options{})
	}
	scenarios := []string{"not-found", "internal-error", "unauthorized", "success"}
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			assert.NoError(t, s.SetScenario(scenarios[i]))
			for range 10 {
				postToken(t, s.Handler(), "mobypay")
			}
		})
	}
	wg.Wait()
	for i, s := range servers {
		got := s.Requests(RequestFilter{})
		assert.Len(t, got, 10)
		for _, r := range got {
			assert.Equal(t, scenarios[i], r.Scenario)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := New(Options{})
	require.NoError(t, err)
	s.Close()
	assert.NotPanics(t, s.Close)
	assert.Equal(t, http.StatusOK, postToken(t, s.Handler(), "mobypay").Code, "a closed Server still answers")
}

func TestUnknownScenarioErrorIsAnError(t *testing.T) {
	s := newTestServer(t, Options{})
	err := s.SetScenario("x")
	assert.True(t, errors.As(err, new(*UnknownScenarioError)))
	var le *LoadError
	assert.False(t, errors.As(err, &le))
}
