package mock

import "time"

// ScenarioInfo describes one loaded scenario.
type ScenarioInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Status      int      `json:"status,omitempty"`
	Providers   []string `json:"providers"`
	Contract    bool     `json:"contract"`
	Source      string   `json:"source"`
	Sequence    []string `json:"sequence,omitempty"`
	Then        string   `json:"then,omitempty"`
	Fault       string   `json:"fault,omitempty"`
	Delay       string   `json:"delay,omitempty"`
}

// Health is what GET /__admin/health reports.
type Health struct {
	Status         string    `json:"status"`
	Version        string    `json:"version"`
	Scenarios      int       `json:"scenarios"`
	LastReload     time.Time `json:"last_reload"`
	ReloadError    string    `json:"reload_error,omitempty"`
	ReloadProblems []Problem `json:"reload_problems,omitempty"`
}

// Scenarios lists the loaded scenarios: built-ins in their documented order, then the rest by name.
func (s *Server) Scenarios() []ScenarioInfo {
	set := s.set.Load()
	out := make([]ScenarioInfo, 0, len(set.ordered))
	for _, sc := range set.ordered {
		providers := sc.providers
		if providers == nil {
			providers = []string{}
		}
		out = append(out, ScenarioInfo{
			Name: sc.name, Description: sc.description, Status: sc.status, Providers: providers,
			Contract: sc.contract, Source: sc.source, Sequence: sc.sequence, Then: sc.then,
			Fault: sc.fault, Delay: sc.delay.String(),
		})
	}
	return out
}

// Health reports liveness, the scenario count and the last failed reload, if any.
func (s *Server) Health() Health {
	h := Health{Status: "ok", Version: s.opts.Version, Scenarios: len(s.set.Load().ordered)}
	if t := s.lastReload.Load(); t != nil {
		h.LastReload = t.UTC()
	}
	if le := s.reloadErr.Load(); le != nil {
		h.ReloadError = le.Error()
		h.ReloadProblems = le.Problems
	}
	return h
}

func (s *Server) checkName(name string) error {
	set := s.set.Load()
	if _, ok := set.byName[name]; !ok {
		return &UnknownScenarioError{Name: name, Known: set.names}
	}
	return nil
}

func (s *Server) setSwitch(session, provider, name string, opts ...SwitchOption) error {
	if err := s.checkName(name); err != nil {
		return err
	}
	s.st.set(session, provider, name, s.now(), opts...)
	return nil
}

// SetScenario makes every request that no header selects answer with name.
func (s *Server) SetScenario(name string, opts ...SwitchOption) error {
	return s.setSwitch("", "", name, opts...)
}

// ClearScenario removes the global switch.
func (s *Server) ClearScenario() { s.st.clear("", "") }

// SetProviderScenario makes requests for provider answer with name.
func (s *Server) SetProviderScenario(provider, name string, opts ...SwitchOption) error {
	return s.setSwitch("", provider, name, opts...)
}

// ClearProviderScenario removes provider's switch.
func (s *Server) ClearProviderScenario(provider string) { s.st.clear("", provider) }

// SetSessionScenario makes requests of one session answer with name, ahead of global switches.
func (s *Server) SetSessionScenario(session, name string, opts ...SwitchOption) error {
	return s.setSwitch(session, "", name, opts...)
}

// SetSessionProviderScenario switches one provider within one session.
func (s *Server) SetSessionProviderScenario(session, provider, name string, opts ...SwitchOption) error {
	return s.setSwitch(session, provider, name, opts...)
}

// ClearSessionScenario removes a session's global switch.
func (s *Server) ClearSessionScenario(session string) { s.st.clear(session, "") }

// ClearSessionProviderScenario removes a session's switch for one provider.
func (s *Server) ClearSessionProviderScenario(session, provider string) {
	s.st.clear(session, provider)
}

// DropSession forgets a session: its switches, sequence positions and journal entries.
func (s *Server) DropSession(session string) {
	s.st.dropSession(session)
	s.jr.dropSession(session)
}

// Reset clears every runtime switch, session, sequence position and the journal.
func (s *Server) Reset() {
	s.st.reset()
	s.jr.clear()
}

// State reports the runtime switches now in force.
func (s *Server) State() State { return s.st.view(s.now()) }

// Sessions lists the live sessions.
func (s *Server) Sessions() []SessionInfo { return s.st.sessionList(s.now()) }

// Requests returns journal entries oldest first.
func (s *Server) Requests(f RequestFilter) []Request { return s.jr.list(f) }

// ClearRequests empties the journal.
func (s *Server) ClearRequests() { s.jr.clear() }
