//! Fault-injection proxy (placeholder while phase 2 is written).

/// Kinds of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// 500.
    Status500,
}
/// Proxy configuration.
#[derive(Debug, Clone, Default)]
pub struct FaultProxyConfig {}
/// The proxy.
pub struct FaultProxy {}
/// A request seen by the proxy.
#[derive(Debug, Clone)]
pub struct ProxiedRequest {}
