package iam

// TODO(stub): replaced by the real operations.
func (s *Service) roleOperations() []operation { return nil }
