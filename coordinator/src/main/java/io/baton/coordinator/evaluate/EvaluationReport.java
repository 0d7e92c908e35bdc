package io.baton.coordinator.evaluate;

import io.baton.trainer.run.Evaluator;

import java.io.Serializable;

/** One replica's view of a distributed evaluation (the counts are global, equal on every rank). */
public record EvaluationReport(int rank, Evaluator.Result result) implements Serializable
{
}
