//! A real Redis Cluster for tests: three masters and three replicas, each a `redis-server` child
//! process on loopback, joined by `redis-cli --cluster create` (both from the Debian package
//! `cargo xtask test` installs). A test can kill the master that serves a key and wait for its
//! replica to take over.

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the cluster may take to form, and a failover to complete.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a node goes unanswered before the others count it failed: short, so a test's
/// failover takes a couple of seconds (Redis's default is 15).
const NODE_TIMEOUT_MS: &str = "1000";

/// Three masters with a replica each, killed (and their files removed) when dropped.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

#[derive(Debug)]
struct Node {
    port: u16,
    child: Option<Child>,
}

/// One line of `CLUSTER NODES`.
struct NodeView {
    port: u16,
    master: bool,
    failed: bool,
    slots: Vec<(u16, u16)>,
}

impl RedisCluster {
    /// Starts six nodes on free loopback ports, creates the cluster, and waits until every
    /// slot is served and every replica has synced with its master.
    ///
    /// ```no_run
    /// use mocopr_testing::RedisCluster;
    ///
    /// let mut cluster = RedisCluster::start().expect("redis-server and redis-cli are installed");
    /// let nodes = cluster.urls(); // redis://127.0.0.1:<port>, one per node
    /// let killed = cluster.kill_master_for("some-key").expect("a master serves it");
    /// cluster.wait_for_failover().expect("its replica took over");
    /// # let _ = (nodes, killed);
    /// ```
    pub fn start() -> io::Result<Self> {
        // A port found free may be taken before its node binds it: start again on others.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once() {
                Ok(cluster) => return Ok(cluster),
                Err(error) if attempt < 3 && error.kind() == io::ErrorKind::TimedOut => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn start_once() -> io::Result<Self> {
        let ports = free_ports(12)?;
        let dir = std::env::temp_dir().join(format!("mocopr-redis-cluster-{}-{}", std::process::id(), ports[0]));
        std::fs::create_dir_all(&dir)?;
        let mut cluster = RedisCluster { nodes: Vec::new(), dir };
        for pair in ports.chunks(2) {
            let (port, bus) = (pair[0], pair[1]);
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--cluster-port", &bus.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", NODE_TIMEOUT_MS])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .arg("--dir")
                .arg(&cluster.dir)
                .args(["--save", "", "--appendonly", "no"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| io::Error::new(e.kind(), format!("cannot run redis-server (is it installed?): {e}")))?;
            cluster.nodes.push(Node { port, child: Some(child) });
        }
        cluster.wait_until("every node answers", |c| c.nodes.iter().all(|n| cli(n.port, &["PING"]).is_ok()))?;
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        create.args(cluster.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        create.args(["--cluster-replicas", "1", "--cluster-yes"]);
        let output = create.stdin(Stdio::null()).output()?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default()
            )));
        }
        cluster.wait_until("the cluster forms and its replicas sync", Self::healthy)?;
        // A replica whose link just came up may still be far behind its master: a write now
        // could be missing from it at a failover. `WAIT` returns once a replica has everything.
        cluster.wait_until("every master's replica has caught up", Self::replicated)?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` of every node still running.
    pub fn urls(&self) -> Vec<String> {
        self.live_ports().map(|port| format!("redis://127.0.0.1:{port}")).collect()
    }

    /// The port of the master that serves `key` now.
    pub fn master_for(&self, key: &str) -> io::Result<u16> {
        let port = self.live_ports().next().ok_or_else(|| io::Error::other("no node is running"))?;
        let slot: u16 = cli(port, &["CLUSTER", "KEYSLOT", key])?
            .trim()
            .parse()
            .map_err(|_| io::Error::other("CLUSTER KEYSLOT answered no number"))?;
        self.views(port)?
            .into_iter()
            .find(|v| v.master && !v.failed && v.slots.iter().any(|&(from, to)| (from..=to).contains(&slot)))
            .map(|v| v.port)
            .ok_or_else(|| io::Error::other(format!("no master serves slot {slot}")))
    }

    /// Kills (SIGKILL) the master serving `key`, and returns its port. Its replica takes over
    /// once the others count it failed ([`wait_for_failover`](Self::wait_for_failover)).
    pub fn kill_master_for(&mut self, key: &str) -> io::Result<u16> {
        let port = self.master_for(key)?;
        let node = self.nodes.iter_mut().find(|n| n.port == port).ok_or_else(|| io::Error::other("unknown node"))?;
        if let Some(mut child) = node.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(port)
    }

    /// Waits until every slot is served by a running master again.
    pub fn wait_for_failover(&self) -> io::Result<()> {
        self.wait_until("a replica takes over the killed master's slots", Self::healthy)
    }

    fn live_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes.iter().filter(|n| n.child.is_some()).map(|n| n.port)
    }

    fn views(&self, port: u16) -> io::Result<Vec<NodeView>> {
        Ok(cli(port, &["CLUSTER", "NODES"])?.lines().filter_map(NodeView::parse).collect())
    }

    /// Every running node says the cluster is ok, running masters serve all 16,384 slots, and
    /// every running replica has synced with its master.
    fn healthy(&self) -> bool {
        let live: Vec<u16> = self.live_ports().collect();
        let all_ok =
            live.iter().all(|&port| cli(port, &["CLUSTER", "INFO"]).is_ok_and(|i| i.contains("cluster_state:ok")));
        let served = live.iter().all(|&port| {
            self.views(port).is_ok_and(|views| {
                let slots: u32 = views
                    .iter()
                    .filter(|v| v.master && !v.failed && live.contains(&v.port))
                    .flat_map(|v| v.slots.iter())
                    .map(|&(from, to)| u32::from(to - from) + 1)
                    .sum();
                slots == 16_384
            })
        });
        let synced = live.iter().all(|&port| {
            cli(port, &["INFO", "replication"])
                .is_ok_and(|info| info.contains("role:master") || info.contains("master_link_status:up"))
        });
        all_ok && served && synced
    }

    /// Every master serving slots has a replica that has a write made now: a key in one of the
    /// master's slots, then `WAIT 1` on the same connection.
    fn replicated(&self) -> bool {
        let Some(port) = self.live_ports().next() else { return false };
        let Ok(views) = self.views(port) else { return false };
        views.iter().filter(|v| v.master && !v.slots.is_empty()).all(|master| {
            let Some(key) = (0..1000).map(|n| format!("mocopr:probe:{{{n}}}")).find(|key| {
                cli(port, &["CLUSTER", "KEYSLOT", key])
                    .ok()
                    .and_then(|slot| slot.trim().parse::<u16>().ok())
                    .is_some_and(|slot| master.slots.iter().any(|&(from, to)| (from..=to).contains(&slot)))
            }) else {
                return false;
            };
            let script = format!("SET {key} 1\nWAIT 1 1000\nDEL {key}\n");
            cli_script(master.port, &script)
                .is_ok_and(|out| out.lines().nth(1).is_some_and(|acked| acked.trim() == "1"))
        })
    }

    fn wait_until(&self, what: &str, done: impl Fn(&Self) -> bool) -> io::Result<()> {
        let started = Instant::now();
        while !done(self) {
            if started.elapsed() > SETTLE_TIMEOUT {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("Redis Cluster: timed out waiting until {what}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl NodeView {
    /// `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>`.
    fn parse(line: &str) -> Option<NodeView> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let address = fields.get(1)?;
        let port = address.split('@').next()?.rsplit(':').next()?.parse().ok()?;
        let flags = fields.get(2)?;
        let slots = fields
            .iter()
            .skip(8)
            // Slots being moved (`[slot->-id]`) are not served yet.
            .filter(|s| !s.starts_with('['))
            .filter_map(|s| match s.split_once('-') {
                Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
                None => s.parse().ok().map(|slot| (slot, slot)),
            })
            .collect();
        Some(NodeView {
            port,
            master: flags.split(',').any(|f| f == "master"),
            failed: flags.split(',').any(|f| f == "fail" || f == "fail?"),
            slots,
        })
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-cli -p <port> <args…>`'s output; an error when it fails or answers an error.
fn cli(port: u16, args: &[&str]) -> io::Result<String> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run redis-cli (is it installed?): {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() || text.starts_with("ERR") || text.starts_with("Could not connect") {
        return Err(io::Error::other(format!("redis-cli {}: {}", args.join(" "), text.trim())));
    }
    Ok(text)
}

/// `redis-cli -p <port>` reading commands from `script`, one a line, on one connection.
fn cli_script(port: u16, script: &str) -> io::Result<String> {
    use std::io::Write;
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!("redis-cli failed: {}", output.status)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `count` distinct loopback ports nothing listens on right now (all bound at once, so no two
/// are the same).
fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let listeners = (0..count).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| l.local_addr().map(|a| a.port())).collect()
}
