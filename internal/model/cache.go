package model

// Cache holds the compiled graphs of one model, one per batch size, for
// training (NewTrainer) or prediction (NewPredictor). Graphs are built on
// first use and kept until Close; a Cache is not safe for concurrent use.
type Cache struct {
	spec   Spec
	params *Params
	train  bool
	nets   map[int]*Net
}

// NewCache returns an empty cache of training graphs (train) or prediction
// graphs of spec over p.
func NewCache(spec Spec, p *Params, train bool) *Cache {
	return &Cache{spec: spec, params: p, train: train}
}

// Net returns the graph for a batch size, building it on first use.
func (c *Cache) Net(batch int) (*Net, error) {
	if n, ok := c.nets[batch]; ok {
		return n, nil
	}
	var (
		n   *Net
		err error
	)
	if c.train {
		n, err = NewTrainer(c.spec, c.params, batch)
	} else {
		n, err = NewPredictor(c.spec, c.params, batch)
	}
	if err != nil {
		return nil, err
	}
	if c.nets == nil {
		c.nets = map[int]*Net{}
	}
	c.nets[batch] = n
	return n, nil
}

// Close releases every graph; the cache may be used again afterwards.
func (c *Cache) Close() error {
	for b, n := range c.nets {
		n.Close()
		delete(c.nets, b)
	}
	return nil
}
