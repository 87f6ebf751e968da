//! Memgraph's schema commands: `DROP INDEX ON :L(p)`, label indexes, `DROP CONSTRAINT ON ...
//! ASSERT ... IS UNIQUE`, existence constraints, `SHOW INDEX INFO`, `SHOW CONSTRAINT INFO` and
//! `SHOW STORAGE INFO`, with Memgraph's result columns.

use graphward_core::commands::RowsStream;
use graphward_core::engine::{QueryType, ResultStream, Stats};
use graphward_core::{Error, Result, Value};
use graphward_storage::{GraphRead, GraphWrite, SchemaKind};

use super::EngineTx;
use crate::ast::MemgraphCommand;

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

impl EngineTx {
    pub(super) fn memgraph_admin(&mut self, cmd: MemgraphCommand) -> Result<Box<dyn ResultStream>> {
        let mut stats = Stats::default();
        let mut cols: Vec<&str> = Vec::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut query_type = QueryType::Schema;
        match cmd {
            MemgraphCommand::DropIndexOn { label, properties } => {
                self.drop_on(&label, &properties, SchemaKind::Index)?;
                stats.indexes_removed += 1;
            }
            MemgraphCommand::DropUniqueOn { label, properties } => {
                self.drop_on(&label, &properties, SchemaKind::Unique)?;
                stats.constraints_removed += 1;
            }
            // graphward keeps every label's node list (label scans never scan all nodes), so a
            // label index always exists: creating or dropping one changes nothing.
            MemgraphCommand::LabelIndex { .. } => {}
            MemgraphCommand::Existence {
                label,
                property,
                create,
            } => {
                if create {
                    self.create_schema(
                        None,
                        false,
                        label,
                        vec![property],
                        SchemaKind::Existence,
                        &mut stats,
                    )?;
                } else {
                    self.drop_on(&label, &[property], SchemaKind::Existence)?;
                    stats.constraints_removed += 1;
                }
            }
            MemgraphCommand::ShowIndexInfo | MemgraphCommand::ShowConstraintInfo => {
                let constraints = matches!(cmd, MemgraphCommand::ShowConstraintInfo);
                query_type = QueryType::Read;
                let g = self.reader()?;
                if constraints {
                    cols = vec!["constraint type", "label", "properties"];
                } else {
                    cols = vec!["index type", "label", "property", "count"];
                }
                // Relationship constraints (Memgraph has none) are listed with their type in the
                // label column.
                for d in g.schema()? {
                    let unique = matches!(d.kind, SchemaKind::Unique | SchemaKind::RelUnique);
                    let exists = matches!(d.kind, SchemaKind::Existence | SchemaKind::RelExistence);
                    if constraints && exists {
                        // Memgraph lists an existence constraint's property as a string.
                        rows.push(vec![
                            s("exists"),
                            s(&d.label),
                            d.properties.first().map_or(Value::Null, |p| s(p)),
                        ]);
                    } else if constraints && unique {
                        rows.push(vec![
                            s("unique"),
                            s(&d.label),
                            Value::List(d.properties.iter().map(|p| s(p)).collect()),
                        ]);
                    } else if !constraints && d.kind == SchemaKind::Index {
                        let property = match d.properties.as_slice() {
                            [one] => s(one),
                            many => Value::List(many.iter().map(|p| s(p)).collect()),
                        };
                        rows.push(vec![
                            s("label+property"),
                            s(&d.label),
                            property,
                            Value::Null,
                        ]);
                    }
                }
            }
            MemgraphCommand::ShowStorageInfo => {
                query_type = QueryType::Read;
                let name = self.name.clone();
                let g = self.reader()?;
                let nodes = g.count_nodes(None)?;
                let rels = g.count_relationships()?;
                let degree = if nodes == 0 {
                    0.0
                } else {
                    2.0 * rels as f64 / nodes as f64
                };
                cols = vec!["storage info", "value"];
                rows = vec![
                    vec![s("name"), s(&name)],
                    vec![s("vertex_count"), Value::Int(nodes as i64)],
                    vec![s("edge_count"), Value::Int(rels as i64)],
                    vec![s("average_degree"), Value::Float(degree)],
                    vec![s("storage_mode"), s("ON_DISK_TRANSACTIONAL")],
                ];
            }
        }
        Ok(Box::new(RowsStream::with_summary(
            cols.into_iter().map(str::to_string).collect(),
            rows,
            self.summary(stats, query_type),
        )))
    }

    fn reader(&mut self) -> Result<&dyn GraphRead> {
        if self.store.is_none() {
            self.open_store(false)?;
        }
        self.store
            .as_ref()
            .map(|s| s.read())
            .ok_or_else(|| Error::internal("no store"))
    }

    /// Drop the index (or uniqueness constraint) on `:label(properties)`, found by what it
    /// covers rather than by name.
    fn drop_on(&mut self, label: &str, properties: &[String], kind: SchemaKind) -> Result<()> {
        self.ensure_write()?;
        let w = self.write_store()?;
        let Some(def) = w
            .schema()?
            .into_iter()
            .find(|d| d.kind == kind && d.label == label && d.properties == properties)
        else {
            let what = if kind != SchemaKind::Index {
                "Constraint"
            } else {
                "Index"
            };
            return Err(Error::semantic(format!(
                "{what} on :{label}({}) doesn't exist",
                properties.join(", ")
            ))
            .with_detail(if kind != SchemaKind::Index {
                "ConstraintNotFound"
            } else {
                "IndexNotFound"
            }));
        };
        w.drop_schema(&def.name)
    }
}
