//! The accept loop. It is ours rather than `axum::serve` because a fault must be able to
//! drop a connection abruptly without answering, which needs a handle on each socket.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// Put into every request's extensions: firing it drops the request's connection.
#[derive(Clone)]
pub(crate) struct ConnAbort(Arc<Notify>);

impl ConnAbort {
    /// Requests the connection be reset.
    pub(crate) fn fire(&self) {
        // notify_one stores a permit, so a fire before the connection task waits is not lost.
        self.0.notify_one();
    }
}

/// Serves `app` on `listener` until `shutdown` flips to true.
pub(crate) async fn serve(listener: TcpListener, app: Router, shutdown: watch::Receiver<bool>) {
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(connection(stream, app.clone(), shutdown.clone()));
            }
        }
    }
}

async fn connection(stream: TcpStream, app: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    // A second handle on the socket lets us set SO_LINGER=0 at abort time, so the close is a
    // real RST, without touching normal closes.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let Ok(dup) = std_stream.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let abort = Arc::new(Notify::new());
    let ctl = ConnAbort(abort.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ctl.clone());
        app.clone().oneshot(req)
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        biased;
        _ = abort.notified() => {
            if let Ok(dup) = TcpStream::from_std(dup) {
                let _ = dup.set_zero_linger();
            }
        }
        _ = shutdown.changed() => {}
        _ = conn => {}
    }
}

/// A sandbox serving in the background.
pub struct RunningSandbox {
    pub(crate) addr: SocketAddr,
    pub(crate) state: super::Shared,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT/crm/sales/api`.
    pub fn base_url(&self) -> String {
        format!("http://{}/crm/sales/api", self.display_addr())
    }

    /// `http://127.0.0.1:PORT`, for `/__sandbox/*` and the `/api` prefix.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.display_addr())
    }

    fn display_addr(&self) -> SocketAddr {
        let mut a = self.addr;
        if a.ip().is_unspecified() {
            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        a
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every record, counters and rate-limit state; the same JSON as `GET /__sandbox/state`.
    pub fn state_snapshot(&self) -> serde_json::Value {
        self.state.snapshot()
    }

    /// Replaces the fault probabilities from the next request on, as `POST /__sandbox/faults`.
    pub fn set_faults(&self, faults: crate::config::FaultConfig) {
        self.state.lock().faults.set_config(faults);
    }

    /// Back to the configured seed, as `POST /__sandbox/reset`.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}
