"""A printer command that is not a runnable program (no #! line) gives an OSError other than FileNotFound."""
import pytest

from shopkeeper.receipts import PrinterError, print_receipt


def test_printer_command_without_shebang_is_a_printer_error(tmp_path):
    script = tmp_path / "printer"
    script.write_text("cat > /dev/null\n")   # executable, but no #! line: execve gives ENOEXEC
    script.chmod(0o755)
    with pytest.raises(PrinterError):
        print_receipt("receipt\n", str(script))


def test_printer_command_that_is_a_directory_is_a_printer_error(tmp_path):
    with pytest.raises(PrinterError):
        print_receipt("receipt\n", str(tmp_path))
