package mock_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing/fstest"

	"github.com/fedtoken/fedtoken-mock/mock"
)

// call sends one authorised token request through h and returns what answered.
func call(h http.Handler, provider string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/user/2021-2/federated-identities/"+provider+"/token", nil)
	req.Header.Set("Authorization", "Bearer user-oauth-token")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// New builds a mock from the built-in scenarios; its Handler serves the endpoint and the admin API.
func ExampleNew() {
	s, err := mock.New(mock.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	w := call(s.Handler(), "mobypay")
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Mock-Scenario"), w.Header().Get("X-Mock-Selected-By"))

	w = call(s.Handler(), "mobypay", "X-Mock-Scenario", "not-found")
	fmt.Println(w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Mock-Scenario"), w.Header().Get("X-Mock-Selected-By"))
	// Output:
	// 200 application/json success default
	// 404 application/vnd.api+json not-found header
}

// SetScenario forces what every request that no header steers answers, until cleared.
func ExampleServer_SetScenario() {
	s, _ := mock.New(mock.Options{})
	defer s.Close()

	if err := s.SetScenario("internal-error"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(call(s.Handler(), "mobypay").Code)
	s.ClearScenario()
	fmt.Println(call(s.Handler(), "mobypay").Code)

	var unknown *mock.UnknownScenarioError
	err := s.SetScenario("no-such-scenario")
	fmt.Println(errors.As(err, &unknown), unknown.Name, len(unknown.Known))
	// Output:
	// 500
	// 200
	// true no-such-scenario 12
}

// Times and TTL make a switch revert by itself, so a crashed test cannot leave it behind.
func ExampleTimes() {
	s, _ := mock.New(mock.Options{})
	defer s.Close()

	_ = s.SetProviderScenario("mobypay", "missing-linked-identity", mock.Times(2))
	fmt.Println(*s.State().Providers["mobypay"].TimesLeft)
	for range 3 {
		fmt.Println(call(s.Handler(), "mobypay").Code)
	}
	// Output:
	// 2
	// 401
	// 401
	// 200
}

// Session switches apply only to requests carrying that X-Mock-Session key (or cookie).
func ExampleServer_SetSessionScenario() {
	s, _ := mock.New(mock.Options{})
	defer s.Close()

	_ = s.SetSessionScenario("test-a", "not-found")
	fmt.Println(call(s.Handler(), "mobypay", "X-Mock-Session", "test-a").Code)
	fmt.Println(call(s.Handler(), "mobypay", "X-Mock-Session", "test-b").Code)
	fmt.Println(len(s.Requests(mock.RequestFilter{Session: "test-a"})))
	// Output:
	// 404
	// 200
	// 1
}

// Requests reads the journal, oldest first, with credentials redacted.
func ExampleServer_Requests() {
	s, _ := mock.New(mock.Options{})
	defer s.Close()

	call(s.Handler(), "mobypay", "X-Mock-Scenario", "refresh-then-success")
	call(s.Handler(), "mobypay", "X-Mock-Scenario", "refresh-then-success")
	for _, r := range s.Requests(mock.RequestFilter{Provider: "mobypay"}) {
		fmt.Println(r.Status, r.Scenario, r.Step, r.Headers.Get("Authorization"))
	}
	// Output:
	// 401 refresh-then-success unauthorized Bearer [redacted]
	// 200 refresh-then-success success Bearer [redacted]
}

// Files layers user scenarios over the built-ins; a bad file is reported with its line.
func ExampleOptions_files() {
	files := fstest.MapFS{
		"teapot.yaml": {Data: []byte("status: 418\ncontract: off\nproviders: [kettle]\nbody:\n  errors:\n    - code: teapot\n")},
	}
	s, err := mock.New(mock.Options{Files: files})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	w := call(s.Handler(), "kettle")
	fmt.Println(w.Code, w.Header().Get("X-Mock-Selected-By"))

	_, err = mock.New(mock.Options{Files: fstest.MapFS{"bad.yaml": {Data: []byte("status: 200\ncolor: red\n")}}})
	var le *mock.LoadError
	if errors.As(err, &le) {
		fmt.Println(le.Problems[0].File, le.Problems[0].Line)
	}
	// Output:
	// 418 provider
	// files/bad.yaml 2
}
