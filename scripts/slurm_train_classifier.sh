#!/bin/bash
# Fine-tune the course's classifier on 2 nodes x 4 GPUs with SLURM:   sbatch scripts/slurm_train_classifier.sh
# srun starts one task per GPU on every node; Lightning's SLURMEnvironment reads SLURM_PROCID, SLURM_LOCALID,
# SLURM_NODEID and the node list, so nothing else is needed: --trainer.num_nodes and --trainer.devices must match
# --nodes and --ntasks-per-node below. Run it from the repository root, with the course installed (make setup).
#SBATCH --job-name=sentiment-ddp
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=00:30:00
#SBATCH --output=%x-%j.out
set -euo pipefail

# Clusters often have no internet on the compute nodes: fill a Hugging Face home once on a machine that has it
# (README, "Offline clusters") and read it offline here.
export HF_HOME="${HF_HOME:-$HOME/hf}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 COURSE_PROFILE=full COURSE_HEADLESS=1

srun .venv/bin/python scripts/train_classifier.py fit --config scripts/configs/ddp.yaml \
    --trainer.num_nodes "$SLURM_JOB_NUM_NODES" --trainer.devices "$SLURM_NTASKS_PER_NODE" "$@"
