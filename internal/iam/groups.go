package iam

// TODO(stub): replaced by the real operations.
func (s *Service) groupOperations() []operation { return nil }
