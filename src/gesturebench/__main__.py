from .cli import entry

# Guarded: decode workers start from a forkserver that imports the main module again
# (as __mp_main__); an unguarded call would rerun the command inside every worker.
if __name__ == "__main__":
    entry()
