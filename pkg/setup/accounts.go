package setup

import "context"

// forAccount returns the Setup that acts in account: s itself when Accounts is nil or the account is IAM's,
// else a copy whose IAM is the account's client. IAM answers GetRole by name from the credentials' account, so
// a role of another account is read and written only with that account's credentials; without them the
// router's error says what to pass.
func (s *Setup) forAccount(ctx context.Context, account string) (*Setup, error) {
	if s.Accounts == nil {
		return s, nil
	}
	client, home, err := s.Accounts.Route(ctx, account)
	if err != nil {
		return nil, err
	}
	if home {
		return s, nil
	}
	other := *s
	other.IAM = client
	return &other, nil
}
