//! Hosts on one machine: a Linux network namespace per host, each with its own address on a
//! private subnet (10.251.N.0/24), all plugged into one bridge that lives in a namespace of its
//! own. The test process reaches them through one more veth from the root namespace into that
//! bridge (address .254): nothing inside has a default route, so no packet leaves the subnet.
//!
//! A host is cut off by taking its port on the bridge down (`ip link set … down`): packets are
//! dropped, not refused, as when a cable is pulled, and open TCP connections stay open.
//!
//! Namespaces are named `apnet<pid>-<test>-<host>`; on drop every process inside them is killed
//! (SIGKILL) and they are deleted, a panicking test included. Namespaces a killed test process
//! left behind (its pid gone) are removed by the next [`Net::new`].
//!
//! Where namespaces cannot be made (not root, no `ip`, no permission) [`Net::new`] says so on
//! standard error and returns `None`, so that the test can skip; with `AIRPROVER_REQUIRE_NETNS=1`
//! it panics instead (`make test` sets it).
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// Prefix of every namespace this harness makes.
const PREFIX: &str = "apnet";
/// The second octet of every subnet: 10.251.N.0/24.
const OCTET: u8 = 251;
/// The test process's address on every subnet.
const ROOT_HOST: u8 = 254;

/// A set of hosts on one bridge.
pub struct Net {
    test: String,
    switch: String,
    /// The root namespace's end of its link to the bridge (its name claims the subnet).
    root_link: String,
    subnet: u8,
    hosts: Vec<Host>,
}

/// One host: its namespace, its address, its port on the bridge.
pub struct Host {
    pub name: String,
    pub ns: String,
    pub ip: Ipv4Addr,
    port: String,
}

/// Runs `ip` with the words of `line` (no name here holds a space): its error output if it
/// failed.
fn ip(line: &str) -> Result<(), String> {
    let out = Command::new("ip")
        .args(line.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {line}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `ip netns list`: the names.
fn namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

/// Kills (SIGKILL) every process in namespace `ns` and deletes it.
fn delete(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
    let _ = ip(&format!("netns del {ns}"));
}

/// Removes the namespaces of test processes that no longer run (killed before their drop).
fn remove_stale() {
    for ns in namespaces() {
        let Some(pid) = ns
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            delete(&ns);
        }
    }
}

/// Why no namespace can be made here, if so.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_string));
    if uid.as_deref() != Some("0") {
        return Some("not root (effective uid is not 0)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("no `ip` command (iproute2)".into());
    }
    None
}

/// Says why the test is skipped, on standard error even while the test harness captures
/// output; panics instead where `AIRPROVER_REQUIRE_NETNS=1`.
fn skip(test: &str, why: &str) {
    use std::io::Write;
    let required = std::env::var("AIRPROVER_REQUIRE_NETNS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: network namespaces are required (AIRPROVER_REQUIRE_NETNS=1) but cannot be made: {why}"
    );
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: network namespaces cannot be made here ({why}); run as root with \
         iproute2, and set AIRPROVER_REQUIRE_NETNS=1 to make this a failure"
    );
}

impl Net {
    /// A bridge and one namespace per name in `hosts` (addresses .1, .2, … in that order), all
    /// up; `None` (with a message) where namespaces cannot be made.
    pub fn new(test: &str, hosts: &[&str]) -> Option<Net> {
        if let Some(why) = unavailable() {
            skip(test, &why);
            return None;
        }
        remove_stale();
        let pid = std::process::id();
        let ns = |host: &str| format!("{PREFIX}{pid}-{test}-{host}");
        let switch = ns("switch");
        if let Err(why) = ip(&format!("netns add {switch}")) {
            skip(test, &why);
            return None;
        }
        let mut net = Net {
            test: test.into(),
            switch,
            root_link: String::new(),
            subnet: 0,
            hosts: Vec::new(),
        };
        if let Err(why) = net.build(hosts, &ns) {
            panic!("{test}: setting up the hosts failed: {why}");
        }
        Some(net)
    }

    fn build(&mut self, hosts: &[&str], ns: &dyn Fn(&str) -> String) -> Result<(), String> {
        let sw = self.switch.clone();
        ip(&format!("-n {sw} link set lo up"))?;
        ip(&format!("-n {sw} link add br0 type bridge"))?;
        ip(&format!("-n {sw} link set br0 up"))?;
        self.claim_subnet()?;
        for (i, host) in hosts.iter().enumerate() {
            let ns = ns(host);
            let port = format!("p{i}");
            let addr = Ipv4Addr::new(10, OCTET, self.subnet, i as u8 + 1);
            ip(&format!("netns add {ns}"))?;
            self.hosts.push(Host {
                name: host.to_string(),
                ns: ns.clone(),
                ip: addr,
                port: port.clone(),
            });
            ip(&format!("-n {ns} link set lo up"))?;
            ip(&format!(
                "link add eth0 netns {ns} type veth peer name {port} netns {sw}"
            ))?;
            ip(&format!("-n {ns} addr add {addr}/24 dev eth0"))?;
            ip(&format!("-n {ns} link set eth0 up"))?;
            ip(&format!("-n {sw} link set {port} master br0 up"))?;
        }
        Ok(())
    }

    /// Claims a free subnet 10.251.N.0/24: the root namespace's link to the bridge is named for
    /// N, and a link name is unique, so two tests (or two test processes) never share one.
    fn claim_subnet(&mut self) -> Result<(), String> {
        let start = std::process::id() as usize * 7 + self.test.len() * 31;
        for k in 0..250 {
            let subnet = ((start + k * 13) % 250) as u8 + 1;
            let link = format!("{PREFIX}-{subnet}");
            let sw = &self.switch;
            if ip(&format!(
                "link add {link} type veth peer name up0 netns {sw}"
            ))
            .is_err()
            {
                continue;
            }
            self.root_link = link.clone();
            self.subnet = subnet;
            ip(&format!(
                "addr add 10.{OCTET}.{subnet}.{ROOT_HOST}/24 dev {link}"
            ))?;
            ip(&format!("link set {link} up"))?;
            ip(&format!("-n {sw} link set up0 master br0 up"))?;
            return Ok(());
        }
        Err("no free subnet 10.251.N.0/24".into())
    }

    fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    /// The address of host `name`.
    pub fn ip(&self, name: &str) -> Ipv4Addr {
        self.host(name).ip
    }

    /// `program` to be run on host `name` (`ip netns exec`, which execs it: the child's pid is
    /// the program's).
    pub fn command(&self, name: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.host(name).ns])
            .arg(program);
        command
    }

    /// Cuts host `name` off: its port on the bridge goes down, its packets are dropped.
    pub fn cut(&self, name: &str) {
        let port = &self.host(name).port;
        ip(&format!("-n {} link set {port} down", self.switch)).unwrap();
    }

    /// Plugs host `name` back in.
    pub fn plug(&self, name: &str) {
        let port = &self.host(name).port;
        ip(&format!("-n {} link set {port} up", self.switch)).unwrap();
    }

    /// Waits (20 s at most) until something on host `name` listens on `port` (tried from the
    /// test process, across the bridge).
    pub fn wait_port(&self, name: &str, port: u16) {
        let addr = std::net::SocketAddr::from((self.ip(name), port));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing listens on {addr} ({name})"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for host in &self.hosts {
            delete(&host.ns);
        }
        delete(&self.switch);
        if !self.root_link.is_empty() {
            // Gone with its peer in the switch's namespace, unless a process held that alive.
            let _ = ip(&format!("link del {}", self.root_link));
        }
    }
}
