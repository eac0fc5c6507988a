package mocktest_test

import (
	"fmt"
	"net/http"

	"github.com/fedtoken/fedtoken-mock/mock"
	"github.com/fedtoken/fedtoken-mock/mock/mocktest"
)

// exampleT stands in for the *testing.T a real test has; examples get none.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                   {}
func (t *exampleT) Logf(string, ...any)       {}
func (t *exampleT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (t *exampleT) Cleanup(f func())          { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// fetchToken is the code under test: a client of the token endpoint configured with a base URL.
func fetchToken(c *http.Client, baseURL, provider string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, baseURL+"/federated-identities/"+provider+"/token", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer user-oauth-token")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// A test starts the mock, forces a scenario and checks what its client sent.
func ExampleNew() {
	t := &exampleT{} // in a test: the *testing.T
	defer t.done()

	m := mocktest.New(t)
	m.Force(t, "internal-error")

	status, err := fetchToken(m.Client(), m.BaseURL(), "mobypay")
	fmt.Println(status, err)

	reqs := m.AssertRequested(t, "mobypay", 1)
	fmt.Println(reqs[0].Scenario, reqs[0].SelectedBy, reqs[0].Headers.Get("Authorization"))
	// Output:
	// 500 <nil>
	// internal-error global-switch Bearer [redacted]
}

// A switch with mock.Times applies to the next N requests only: here one failure, then the default.
func ExampleServer_Force() {
	t := &exampleT{}
	defer t.done()

	m := mocktest.New(t)
	m.Force(t, "not-found", mock.Times(1))
	for range 2 {
		status, _ := fetchToken(m.Client(), m.BaseURL(), "mobypay")
		fmt.Println(status)
	}
	// Output:
	// 404
	// 200
}

// Per-provider switches and the journal filters.
func ExampleServer_ForceProvider() {
	t := &exampleT{}
	defer t.done()

	m := mocktest.New(t)
	m.ForceProvider(t, "mobypay", "missing-linked-identity")
	for _, p := range []string{"mobypay", "other", "mobypay"} {
		status, _ := fetchToken(m.Client(), m.BaseURL(), p)
		fmt.Println(p, status)
	}
	fmt.Println(len(m.Requests(mock.RequestFilter{Scenario: "missing-linked-identity"})))
	// Output:
	// mobypay 401
	// other 200
	// mobypay 401
	// 2
}

// A built-in sequence answers 401 then 200, as an SDK that refreshes its token and retries expects.
func ExampleServer_Requests() {
	t := &exampleT{}
	defer t.done()

	m := mocktest.New(t)
	m.Force(t, "refresh-then-success")
	for range 2 {
		_, _ = fetchToken(m.Client(), m.BaseURL(), "mobypay")
	}
	for _, r := range m.Requests(mock.RequestFilter{Provider: "mobypay"}) {
		fmt.Println(r.Scenario, r.Step, r.Status)
	}
	// Output:
	// refresh-then-success unauthorized 401
	// refresh-then-success success 200
}
