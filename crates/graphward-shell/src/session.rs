//! A shell session: the connection plus what the user chose (database, format), and the
//! execution of statements and `:` commands shared by the interactive and batch modes.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::client::{Auth, Client, QueryResult};
use crate::connect::{self, Target};
use crate::error::ShellError;
use crate::render::{self, Format};

pub const HELP: &str = "\
Statements end with ';' and may span several lines. Commands (one line, no ';'):
  :help              this text
  :use DB            run the next statements on database DB
  :begin             open an explicit transaction
  :commit            commit it
  :rollback          roll it back
  :exit, :quit       leave (Ctrl-D too)
Ctrl-C while a query runs interrupts it (the server gets a RESET; an open transaction is
rolled back); Ctrl-C at the prompt clears the line. Lines mentioning a password are not
saved to the history file, nor are lines that start with a space.";

/// What a command asked the caller to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Exit,
}

pub struct Session {
    pub client: Option<Client>,
    pub target: Target,
    auth: Auth,
    /// The database named with --database or :use (None: the server's default).
    pub database: Option<String>,
    pub format: Format,
}

impl Session {
    /// Connects and authenticates.
    pub async fn open(
        target: Target,
        auth: Auth,
        database: Option<String>,
        format: Format,
    ) -> Result<Session, ShellError> {
        let client = login(&target, &auth).await?;
        Ok(Session {
            client: Some(client),
            target,
            auth,
            database,
            format,
        })
    }

    /// Opens the connection again after it broke.
    pub async fn reconnect(&mut self) -> Result<(), ShellError> {
        if let Some(old) = self.client.take() {
            drop(old);
        }
        self.client = Some(login(&self.target, &self.auth).await?);
        Ok(())
    }

    fn client(&mut self) -> Result<&mut Client, ShellError> {
        self.client
            .as_mut()
            .ok_or_else(|| ShellError::ConnectionLost("not connected".into()))
    }

    pub fn in_transaction(&self) -> bool {
        self.client.as_ref().is_some_and(|c| c.in_transaction)
    }

    /// The name shown in the prompt.
    pub fn database_label(&self) -> &str {
        self.database.as_deref().unwrap_or("neo4j")
    }

    /// Runs one statement; `cancel` interrupts it (RESET), `abandon` gives up the connection.
    pub async fn statement(
        &mut self,
        query: &str,
        cancel: impl Future<Output = ()>,
        abandon: impl Future<Output = ()>,
    ) -> Result<(QueryResult, Duration), ShellError> {
        let db = self.database.clone();
        let client = self.client()?;
        let start = Instant::now();
        let r = client.run(query, db.as_deref(), cancel, abandon).await;
        if let Err(e) = &r {
            if e.needs_reconnect() {
                self.client = None;
            }
        }
        Ok((r?, start.elapsed()))
    }

    /// Runs a `:` command. Messages for the user are returned (printed by the caller).
    pub async fn command(&mut self, line: &str) -> Result<(Next, Option<String>), ShellError> {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or("");
        let arg = words.next();
        if words.next().is_some() {
            return Err(ShellError::Usage(format!("too many arguments: {line}")));
        }
        let no_arg = |arg: Option<&str>| match arg {
            Some(a) => Err(ShellError::Usage(format!(
                "{name} takes no argument (got {a})"
            ))),
            None => Ok(()),
        };
        match name.to_ascii_lowercase().as_str() {
            ":help" | ":h" | ":?" => Ok((Next::Continue, Some(HELP.to_string()))),
            ":exit" | ":quit" | ":q" => {
                no_arg(arg)?;
                Ok((Next::Exit, None))
            }
            ":use" => {
                let Some(db) = arg else {
                    return Err(ShellError::Usage("usage: :use DATABASE".into()));
                };
                let db = db.trim_end_matches(';').trim_matches('`').to_string();
                if self.in_transaction() {
                    return Err(ShellError::Usage(
                        "cannot change database inside a transaction: :commit or :rollback first"
                            .into(),
                    ));
                }
                // Check the database exists (and may be used) before switching.
                let client = self.client()?;
                client
                    .run(
                        "RETURN 1",
                        Some(&db),
                        std::future::pending(),
                        std::future::pending(),
                    )
                    .await?;
                self.database = Some(db.clone());
                Ok((Next::Continue, Some(format!("using database {db}"))))
            }
            ":begin" => {
                no_arg(arg)?;
                let db = self.database.clone();
                self.client()?.begin(db.as_deref()).await?;
                Ok((Next::Continue, Some("transaction open".into())))
            }
            ":commit" => {
                no_arg(arg)?;
                self.client()?.commit().await?;
                Ok((Next::Continue, Some("transaction committed".into())))
            }
            ":rollback" => {
                no_arg(arg)?;
                self.client()?.rollback().await?;
                Ok((Next::Continue, Some("transaction rolled back".into())))
            }
            _ => Err(ShellError::Usage(format!(
                "unknown command {name}; :help lists the commands"
            ))),
        }
    }

    /// Renders a result in the session's format.
    pub fn render(&self, r: &QueryResult) -> String {
        render::result(self.format, r)
    }

    /// GOODBYE.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            c.goodbye().await;
        }
    }
}

async fn login(target: &Target, auth: &Auth) -> Result<Client, ShellError> {
    let (io, version) = connect::open(target).await?;
    let mut client = Client::new(io, version);
    client.hello(auth).await?;
    Ok(client)
}
