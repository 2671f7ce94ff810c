//! The home page of each role: what this person can do here, one card each. Later capabilities
//! add their cards in [`cards`].

use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::platform::access::{Action, Principal};
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

pub struct Card {
    pub href: &'static str,
    pub title: String,
    pub text: String,
}

/// The cards a principal sees, in the order most useful to that role.
pub fn cards(ctx: &Ctx, p: &Principal) -> Vec<Card> {
    let tr = ctx.tr;
    let card = |href, id: &str| Card {
        href,
        title: tr.t(&format!("card-{id}")),
        text: tr.t(&format!("card-{id}-text")),
    };
    let mut out = vec![];
    // Those who answer alarms see the console first; everyone else, the button.
    if p.can(Action::AlarmView) {
        out.push(card("/console", "console"));
    }
    out.push(card("/alarm", "alarm"));
    if p.can(Action::ReportSubmit) {
        out.push(card("/reports", "reports"));
    }
    if p.can(Action::ReportView) {
        out.push(card("/triage", "triage"));
        out.push(card("/protect/notices", "protect-notices"));
    }
    if crate::triage::service::may_see_overdue(p) {
        out.push(card("/triage/overdue", "overdue"));
    }
    if p.can(Action::AlarmView) {
        out.push(card("/alarms", "alarms"));
    }
    if p.can(Action::PeopleView) {
        out.push(card("/people", "people"));
    }
    out.push(card("/directory", "directory"));
    if p.can(Action::AccountsManage) {
        out.push(card("/admin/users", "accounts"));
    }
    if p.can(Action::AuditView) {
        out.push(card("/admin/audit", "audit"));
    }
    if p.can(Action::CalendarManage) {
        out.push(card("/admin/calendars/KZ", "calendars"));
    }
    out.push(card("/account", "account"));
    out
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    page: PageCtx,
    intro: String,
    cards: Vec<Card>,
}

async fn home(ctx: Ctx) -> Response {
    let Some(p) = ctx.principal().cloned() else {
        return Redirect::to("/login").into_response();
    };
    render(&HomePage {
        page: PageCtx::new(&ctx, "home-title"),
        intro: ctx.tr.t(&format!("home-intro-{}", p.role.code())),
        cards: cards(&ctx, &p),
    })
}
