package membus

// deque is a growable ring buffer of deliveries. It is not safe for
// concurrent use; the owning subscription's mutex guards it.
type deque struct {
	buf  []*delivery
	head int
	n    int
}

func (q *deque) len() int { return q.n }

func (q *deque) grow() {
	if q.n < len(q.buf) {
		return
	}
	size := 2 * len(q.buf)
	if size == 0 {
		size = 16
	}
	buf := make([]*delivery, size)
	k := copy(buf, q.buf[q.head:])
	copy(buf[k:], q.buf[:q.head])
	q.buf, q.head = buf, 0
}

func (q *deque) pushBack(d *delivery) {
	q.grow()
	q.buf[(q.head+q.n)%len(q.buf)] = d
	q.n++
}

func (q *deque) pushFront(d *delivery) {
	q.grow()
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = d
	q.n++
}

func (q *deque) popFront() *delivery {
	d := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 {
		q.head = 0
	}
	return d
}

// takeAll empties the deque and returns its deliveries in order.
func (q *deque) takeAll() []*delivery {
	out := make([]*delivery, 0, q.n)
	for q.n > 0 {
		out = append(out, q.popFront())
	}
	q.buf = nil
	return out
}
