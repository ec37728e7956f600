/// A FIFO per lane, served in turn: the next job comes from the lane after the one served last, so
/// a lane with a long backlog (one address sending many logins) delays another lane's job by at
/// most one job of its own. Without lanes (all jobs in one lane) it is a plain FIFO.
struct FairQueue<Job> {
    private var lanes: [String: Lane] = [:]
    /// Lanes with jobs, in the order they are served; `head` is the next.
    private var turns: [String] = []
    private var head = 0
    private(set) var count = 0

    private struct Lane {
        var jobs: [Job] = []
        var first = 0
        var isEmpty: Bool { first == jobs.count }

        mutating func popFirst() -> Job {
            let job = jobs[first]
            first += 1
            if first > 32 && first * 2 > jobs.count {
                jobs.removeFirst(first)
                first = 0
            }
            return job
        }
    }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ job: Job, lane: String) {
        if lanes[lane] == nil {
            lanes[lane] = Lane()
            turns.append(lane)
        }
        lanes[lane]!.jobs.append(job)
        count += 1
    }

    mutating func popFirst() -> Job? {
        guard count > 0 else { return nil }
        let lane = turns[head]
        head += 1
        let job = lanes[lane]!.popFirst()
        count -= 1
        if lanes[lane]!.isEmpty {
            lanes[lane] = nil
        } else {
            turns.append(lane)
        }
        if head > 64 && head * 2 > turns.count {
            turns.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Jobs waiting in one lane.
    func count(lane: String) -> Int {
        guard let l = lanes[lane] else { return 0 }
        return l.jobs.count - l.first
    }

    mutating func removeAll() {
        lanes.removeAll()
        turns.removeAll()
        head = 0
        count = 0
    }
}
