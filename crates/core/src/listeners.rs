//! Listener registries and event dispatch. Same listener twice registers once; removing an
//! unknown one is a no-op; a listener that fails is reported and the others still run; no borrow
//! is held while a listener runs, so it may call back into the SDK (even add or remove listeners).

use crate::event::{Channel, Event};
use std::cell::RefCell;

/// Registered listeners of one kind, in registration order.
pub struct Registry<L> {
    items: RefCell<Vec<L>>,
}

impl<L> Default for Registry<L> {
    fn default() -> Self {
        Registry {
            items: RefCell::new(Vec::new()),
        }
    }
}

impl<L: Clone + PartialEq> Registry<L> {
    /// Returns false when the listener was already registered.
    pub fn add(&self, listener: L) -> bool {
        let mut items = self.items.borrow_mut();
        if items.contains(&listener) {
            return false;
        }
        items.push(listener);
        true
    }

    /// Returns false when the listener was not registered.
    pub fn remove(&self, listener: &L) -> bool {
        let mut items = self.items.borrow_mut();
        let before = items.len();
        items.retain(|l| l != listener);
        items.len() != before
    }

    pub fn clear(&self) {
        self.items.borrow_mut().clear();
    }

    /// A copy to iterate while listeners run (they may change the registry).
    pub fn snapshot(&self) -> Vec<L> {
        self.items.borrow().clone()
    }
}

/// A listener object: handles the events it has a callback for; an Err is what it threw.
pub trait Listener {
    fn handle(&self, event: &Event) -> Result<(), String>;
}

type Report = Box<dyn Fn(&Event, &str)>;

/// The three registries of the contract and the routing of events to them.
pub struct Dispatcher<L> {
    pub conversation: Registry<L>,
    pub message: Registry<L>,
    pub sdk: Registry<L>,
    report: Report,
}

impl<L: Listener + Clone + PartialEq> Dispatcher<L> {
    /// `report` receives each listener failure (the browser prints it with console.error).
    pub fn new(report: impl Fn(&Event, &str) + 'static) -> Self {
        Dispatcher {
            conversation: Registry::default(),
            message: Registry::default(),
            sdk: Registry::default(),
            report: Box::new(report),
        }
    }

    pub fn registry(&self, channel: Channel) -> &Registry<L> {
        match channel {
            Channel::Conversation => &self.conversation,
            Channel::Message => &self.message,
            Channel::Sdk => &self.sdk,
        }
    }

    pub fn dispatch(&self, event: &Event) {
        for listener in self.registry(event.channel()).snapshot() {
            if let Err(e) = listener.handle(event) {
                (self.report)(event, &e);
            }
        }
    }

    pub fn clear(&self) {
        self.conversation.clear();
        self.message.clear();
        self.sdk.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[derive(Clone)]
    struct Probe {
        log: Rc<RefCell<Vec<String>>>,
        name: &'static str,
        fail: bool,
        on_call: Option<Rc<dyn Fn()>>,
    }
    impl PartialEq for Probe {
        fn eq(&self, o: &Self) -> bool {
            self.name == o.name
        }
    }
    impl Listener for Probe {
        fn handle(&self, event: &Event) -> Result<(), String> {
            self.log
                .borrow_mut()
                .push(format!("{}:{}", self.name, event.name()));
            if let Some(f) = &self.on_call {
                f();
            }
            if self.fail {
                Err("boom".into())
            } else {
                Ok(())
            }
        }
    }

    fn probe(log: &Rc<RefCell<Vec<String>>>, name: &'static str, fail: bool) -> Probe {
        Probe {
            log: log.clone(),
            name,
            fail,
            on_call: None,
        }
    }

    #[test]
    fn same_listener_once_and_unknown_removal_is_noop() {
        let log = Rc::new(RefCell::new(vec![]));
        let reports = Rc::new(RefCell::new(0));
        let r2 = reports.clone();
        let d = Dispatcher::new(move |_, _| *r2.borrow_mut() += 1);
        assert!(d.conversation.add(probe(&log, "a", false)));
        assert!(!d.conversation.add(probe(&log, "a", false)));
        assert!(!d.conversation.remove(&probe(&log, "zz", false)));
        d.dispatch(&Event::TotalUnreadChanged(3));
        assert_eq!(*log.borrow(), vec!["a:onTotalUnreadMessageCountChanged"]);
        // Events go only to their own registry.
        d.dispatch(&Event::SyncServerStart);
        d.dispatch(&Event::Connecting);
        assert_eq!(log.borrow().len(), 2);
        assert_eq!(*reports.borrow(), 0);
    }

    #[test]
    fn failing_listener_does_not_stop_others() {
        let log = Rc::new(RefCell::new(vec![]));
        let reports = Rc::new(RefCell::new(vec![]));
        let r2 = reports.clone();
        let d = Dispatcher::new(move |_, e: &str| r2.borrow_mut().push(e.to_owned()));
        d.conversation.add(probe(&log, "bad", true));
        d.conversation.add(probe(&log, "good", false));
        d.dispatch(&Event::ConversationDeleted(vec!["c2c_x".into()]));
        assert_eq!(
            *log.borrow(),
            vec!["bad:onConversationDeleted", "good:onConversationDeleted"]
        );
        assert_eq!(*reports.borrow(), vec!["boom"]);
    }

    #[test]
    fn listener_may_change_registry_while_dispatching() {
        let log = Rc::new(RefCell::new(vec![]));
        let d = Rc::new(Dispatcher::new(|_, _| {}));
        let d2 = d.clone();
        let log2 = log.clone();
        let mut first = probe(&log, "first", false);
        first.on_call = Some(Rc::new(move || {
            d2.conversation.add(probe(&log2, "late", false));
            d2.conversation.remove(&probe(&log2, "first", false));
        }));
        d.conversation.add(first);
        d.dispatch(&Event::SyncServerFinish);
        d.dispatch(&Event::SyncServerFinish);
        assert_eq!(
            *log.borrow(),
            vec!["first:onSyncServerFinish", "late:onSyncServerFinish"]
        );
    }
}
