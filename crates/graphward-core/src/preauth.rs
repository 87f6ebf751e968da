//! Budgets for connections that have not authenticated yet (every listener).
//!
//! A connection is *pre-authentication* from the moment it is accepted until it has
//! authenticated (Bolt: HELLO/LOGON succeeded) or sent a complete request (HTTP: the first
//! request head arrived; every HTTP request authenticates by itself). Such connections cost
//! the server a socket and a task while giving nothing away, so they are bounded separately
//! from the authenticated connection limit:
//!
//! * a deadline ([`PreAuthLimits::timeout`]): a connection still unauthenticated after it is
//!   closed (TLS handshake, Bolt version handshake and HELLO/LOGON, or HTTP request head);
//! * at most [`PreAuthLimits::max_per_address`] such connections per client IP address and
//!   [`PreAuthLimits::max_total`] in all. Past a bound the new connection is refused with the
//!   clearest error its protocol allows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The budgets (settings `preauth.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreAuthLimits {
    /// Longest time from accept to authentication (or the first HTTP request head).
    pub timeout: Duration,
    /// Unauthenticated connections per client address.
    pub max_per_address: usize,
    /// Unauthenticated connections in all, per listener.
    pub max_total: usize,
}

impl Default for PreAuthLimits {
    fn default() -> Self {
        PreAuthLimits {
            timeout: Duration::from_secs(10),
            max_per_address: 64,
            max_total: 512,
        }
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreAuthRefusal {
    PerAddress(usize),
    Total(usize),
}

impl PreAuthRefusal {
    /// The message sent to the client (where the protocol allows one).
    pub fn message(&self) -> String {
        match self {
            PreAuthRefusal::PerAddress(n) => format!(
                "Too many unauthenticated connections from this address (limit {n}): authenticate on the open ones or try again shortly."
            ),
            PreAuthRefusal::Total(n) => format!(
                "Too many unauthenticated connections (limit {n}): try again shortly."
            ),
        }
    }
}

/// Counts unauthenticated connections per address and in total; one per listener.
#[derive(Debug)]
pub struct PreAuthGate {
    limits: PreAuthLimits,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

impl PreAuthGate {
    pub fn new(limits: PreAuthLimits) -> Arc<Self> {
        Arc::new(PreAuthGate {
            limits,
            state: Mutex::new(GateState::default()),
        })
    }

    pub fn limits(&self) -> PreAuthLimits {
        self.limits
    }

    /// Admit a new connection from `ip`; the permit counts it until dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<PreAuthPermit, PreAuthRefusal> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.total >= self.limits.max_total {
            return Err(PreAuthRefusal::Total(self.limits.max_total));
        }
        let mine = st.per_address.get(&ip).copied().unwrap_or(0);
        if mine >= self.limits.max_per_address {
            return Err(PreAuthRefusal::PerAddress(self.limits.max_per_address));
        }
        st.total += 1;
        st.per_address.insert(ip, mine + 1);
        Ok(PreAuthPermit {
            gate: self.clone(),
            ip,
        })
    }

    /// Unauthenticated connections counted now.
    pub fn count(&self) -> usize {
        self.state.lock().map(|s| s.total).unwrap_or(0)
    }
}

/// One admitted unauthenticated connection; dropping it (authenticated, or closed) frees the
/// slot.
#[derive(Debug)]
pub struct PreAuthPermit {
    gate: Arc<PreAuthGate>,
    ip: IpAddr,
}

impl Drop for PreAuthPermit {
    fn drop(&mut self) {
        let mut st = self.gate.state.lock().unwrap_or_else(|p| p.into_inner());
        st.total = st.total.saturating_sub(1);
        if let Some(n) = st.per_address.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                st.per_address.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_address_and_total_bounds() {
        let gate = PreAuthGate::new(PreAuthLimits {
            timeout: Duration::from_secs(1),
            max_per_address: 2,
            max_total: 3,
        });
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let c: IpAddr = "127.0.0.3".parse().unwrap();
        let a1 = gate.admit(a).unwrap();
        let _a2 = gate.admit(a).unwrap();
        assert_eq!(gate.admit(a).unwrap_err(), PreAuthRefusal::PerAddress(2));
        let _b1 = gate.admit(b).unwrap();
        assert_eq!(gate.admit(c).unwrap_err(), PreAuthRefusal::Total(3));
        drop(a1);
        assert_eq!(gate.count(), 2);
        let _c1 = gate.admit(c).unwrap();
        assert_eq!(gate.count(), 3);
    }
}
