package mock

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"sync"
)

// Faults a scenario can inject instead of a clean response.
const (
	faultConnectionReset = "connection-reset"
	faultEmptyResponse   = "empty-response"
	faultMalformedBody   = "malformed-body"
	faultHang            = "hang"
)

var faults = []string{faultConnectionReset, faultEmptyResponse, faultMalformedBody, faultHang}

// What a sequence does once every step has answered.
const (
	thenRepeatLast = "repeat-last"
	thenCycle      = "cycle"
	thenFail       = "fail"
)

var thens = []string{thenRepeatLast, thenCycle, thenFail}

// builtinOrder is the documented order of the built-in scenarios, which Prefer: code= follows.
var builtinOrder = []string{
	"success", "missing-linked-identity", "unauthorized", "not-found", "internal-error",
	"refresh-then-success", "link-then-success",
	"slow", "timeout", "connection-reset", "malformed-body", "service-unavailable",
}

// Names the mock relies on: the default answer and the auth gate's answer.
const (
	defaultScenario      = "success"
	unauthorizedScenario = "unauthorized"
)

// scenario is one compiled, validated scenario file; immutable once loaded.
type scenario struct {
	name        string
	description string
	source      string // "builtin" or the file's path, as the admin API reports it
	file        string // the file's path for problems ("builtin/NAME.yaml" for a built-in)
	builtin     bool
	status      int
	header      http.Header // fixed response headers, Content-Type included
	providers   []string
	delay       delay
	fault       string
	contract    bool // validated against the OpenAPI document
	body        *body
	sequence    []string
	then        string
	steps       []*scenario // resolved sequence steps
	nameValue   []string    // the X-Mock-Scenario header value, shared by every response
	lengthValue []string    // the Content-Length value of a body without placeholders

	// Lines of each provider and sequence step in the file, for problems found when linking.
	providerLines, stepLines []int
}

// scenarioSet is every scenario of one load, indexed for the request path; a reload swaps it whole.
type scenarioSet struct {
	byName     map[string]*scenario
	ordered    []*scenario
	byProvider map[string]*scenario
	byStatus   map[int]*scenario
	def        *scenario
	names      []string
	fakers     sync.Pool
}

func newScenarioSet(list []*scenario) *scenarioSet {
	set := &scenarioSet{
		byName:     make(map[string]*scenario, len(list)),
		byProvider: map[string]*scenario{},
		byStatus:   map[int]*scenario{},
	}
	set.fakers.New = func() any { return newFaker() }
	// Built-ins first in their documented order, then the rest by name.
	slices.SortStableFunc(list, func(a, b *scenario) int {
		return cmp.Or(cmp.Compare(rank(a.name), rank(b.name)), cmp.Compare(a.name, b.name))
	})
	for _, sc := range list {
		sc.nameValue = []string{sc.name}
		if sc.body != nil && !sc.body.dynamic {
			sc.lengthValue = []string{strconv.Itoa(sc.body.size)}
		} else if sc.body == nil {
			sc.lengthValue = []string{"0"}
		}
		set.byName[sc.name] = sc
		set.ordered = append(set.ordered, sc)
		set.names = append(set.names, sc.name)
		for _, p := range sc.providers {
			set.byProvider[p] = sc
		}
	}
	set.def = set.byName[defaultScenario]
	if set.def != nil && set.def.sequence == nil {
		set.byStatus[set.def.status] = set.def
	}
	for _, sc := range set.ordered {
		if sc.sequence != nil || sc.fault != "" {
			continue
		}
		if _, taken := set.byStatus[sc.status]; !taken {
			set.byStatus[sc.status] = sc
		}
	}
	return set
}

func rank(name string) int {
	if i := slices.Index(builtinOrder, name); i >= 0 {
		return i
	}
	return len(builtinOrder)
}

func (set *scenarioSet) getFaker() *faker  { return set.fakers.Get().(*faker) }
func (set *scenarioSet) putFaker(f *faker) { set.fakers.Put(f) }
